using XnorEdge.Format;

namespace XnorEdge.Vision.Tests;

public class ActionTests
{
    private static readonly string[] Labels = FashionMnist.ClassNames;

    [Fact]
    public void Rules_parse_with_and_without_confidence_and_pulse()
    {
        var a = ActionRule.Parse("Sneaker:0.8=gpio:17:250").Resolve(Labels);
        Assert.Equal(("Sneaker", 0.8f, 17, 250, 7), (a.Label, a.MinConfidence, a.Pin, a.PulseMs, a.Index));
        var b = ActionRule.Parse("7=gpio:27").Resolve(Labels);
        Assert.Equal((0f, 27, ActionRule.DefaultPulseMs, 7), (b.MinConfidence, b.Pin, b.PulseMs, b.Index));
        var c = ActionRule.Parse("T-shirt/top:0.5=GPIO:4:10").Resolve(Labels);
        Assert.Equal(0, c.Index);
        var d = ActionRule.Parse("ankle boot=gpio:5").Resolve(Labels);
        Assert.Equal(9, d.Index);
        Assert.Equal("Sneaker:0.8=gpio:17:250", a.ToString());
    }

    [Theory]
    [InlineData("Sneaker")]
    [InlineData("Sneaker=")]
    [InlineData("Sneaker=gpio")]
    [InlineData("Sneaker=pwm:3")]
    [InlineData("Sneaker=gpio:x")]
    [InlineData("Sneaker=gpio:3:0")]
    [InlineData("Sneaker:1.5=gpio:3")]
    [InlineData("=gpio:3")]
    public void Bad_rules_are_explained(string text)
    {
        var e = Assert.Throws<FormatException>(() => ActionRule.Parse(text));
        Assert.Contains(text, e.Message);
        Assert.Contains("gpio:<pin>", e.Message);
    }

    [Theory]
    [InlineData("X=gpio:", "missing pin after 'gpio:'")]           // issue 16 #8: it said "no '='"
    [InlineData("Sneaker=gpio", "missing pin after 'gpio:'")]
    [InlineData("Sneaker=", "nothing after '=': missing gpio:<pin>")]
    [InlineData("=gpio:3", "missing label before '='")]
    [InlineData("Sneaker", "no '=' between the label and gpio:<pin>")]
    [InlineData("Sneaker=gpio:17:", "missing pulse length after 'gpio:17:'")]
    [InlineData("Sneaker=gpio:1:2:3", "\"gpio:1:2:3\" has 3 ':'-separated fields")]
    [InlineData("Sneaker=gpio:x", "pin \"x\" is not a number")]
    public void Each_bad_rule_says_what_is_actually_wrong(string text, string why)
    {
        var e = Assert.Throws<FormatException>(() => ActionRule.Parse(text));
        Assert.StartsWith($"action \"{text}\": {why}", e.Message);
        if (!why.Contains("'='")) Assert.DoesNotContain("'='", e.Message);
    }

    [Fact]
    public void Unknown_labels_are_rejected_when_resolving()
    {
        var e = Assert.Throws<FormatException>(() => ActionRule.Parse("hat=gpio:3").Resolve(Labels));
        Assert.Contains("hat", e.Message);
        Assert.Contains("Sneaker", e.Message);
    }

    [Fact]
    public void Debouncer_fires_once_per_appearance_and_rearms_after_absence()
    {
        var d = new Debouncer(rearmAfterFrames: 3);
        var t = TimeSpan.Zero;
        string seen = "";
        // present x5, absent x2 (not enough), present x2, absent x3 (re-arms), present x1
        foreach (char c in "PPPPPAAPPAAAP")
        {
            seen += d.Update(c == 'P', t) ? "F" : ".";
            t += TimeSpan.FromMilliseconds(33);
        }
        Assert.Equal("F...........F", seen);
        Assert.Equal(2, d.Fired);
    }

    [Fact]
    public void Debouncer_rearms_after_a_hold_off_time_and_can_require_confirmation()
    {
        var d = new Debouncer(rearmAfterFrames: 1000, rearmAfter: TimeSpan.FromSeconds(1), confirmFrames: 2);
        Assert.False(d.Update(true, TimeSpan.FromSeconds(0)));
        Assert.True(d.Update(true, TimeSpan.FromSeconds(0.1)));   // confirmed on the second frame
        Assert.False(d.Update(true, TimeSpan.FromSeconds(0.2)));
        Assert.False(d.Update(false, TimeSpan.FromSeconds(0.5)));  // last seen 0.2: 0.3 s
        Assert.False(d.Armed);
        Assert.False(d.Update(false, TimeSpan.FromSeconds(1.3)));  // 1.1 s since last seen: re-armed
        Assert.True(d.Armed);
        Assert.False(d.Update(true, TimeSpan.FromSeconds(1.4)));
        Assert.False(d.Update(false, TimeSpan.FromSeconds(1.5)));  // a single frame is not confirmed
        Assert.False(d.Update(true, TimeSpan.FromSeconds(1.6)));
        Assert.True(d.Update(true, TimeSpan.FromSeconds(1.7)));
    }

    private static ClassificationResult Result(int index, float confidence, double seconds) =>
        new(new float[10]) { Index = index, Confidence = confidence, Timestamp = TimeSpan.FromSeconds(seconds) };

    [Fact]
    public void One_object_seen_for_many_frames_gives_one_pulse()
    {
        var pins = new RecordingPinController();
        var rules = new[] { ActionRule.Parse("Sneaker:0.6=gpio:17:30").Resolve(Labels), ActionRule.Parse("Bag=gpio:22:30").Resolve(Labels) };
        using var sink = new GpioActionSink(rules, pins, () => new Debouncer(rearmAfterFrames: 3));
        Assert.True(pins.IsOpen(17) && pins.IsOpen(22));
        double t = 0;
        for (int i = 0; i < 20; i++) sink.OnResult(Result(7, 0.9f, t += 0.033));
        Assert.Equal(1, pins.Count(17, PinEventKind.High));
        Assert.True(pins.WaitUntil(p => !p.IsHigh(17), TimeSpan.FromSeconds(5)), "the pulse did not end");
        for (int i = 0; i < 20; i++) sink.OnResult(Result(7, 0.9f, t += 0.033));
        Assert.Equal(1, pins.Count(17, PinEventKind.High)); // still the same appearance
        // Low confidence counts as absent: re-arms after 3 frames.
        for (int i = 0; i < 3; i++) sink.OnResult(Result(7, 0.3f, t += 0.033));
        sink.OnResult(Result(7, 0.95f, t += 0.033));
        Assert.Equal(2, pins.Count(17, PinEventKind.High));
        Assert.Equal(0, pins.Count(22, PinEventKind.High));
        Assert.Equal(2, sink.Pulses);
        sink.Complete(new LoopSummary());
        Assert.False(pins.IsOpen(17) || pins.IsOpen(22));
        Assert.Equal(PinEventKind.Close, pins.Events.Last(e => e.Pin == 17).Kind);
        sink.Dispose(); // releasing twice is harmless
        Assert.Equal(1, pins.Count(17, PinEventKind.Close));
    }

    [Fact]
    public void Pulse_length_is_kept_by_a_timer()
    {
        var pins = new RecordingPinController();
        using var sink = new GpioActionSink(new[] { ActionRule.Parse("0=gpio:5:60").Resolve(Labels) }, pins);
        sink.OnResult(Result(0, 1f, 0));
        Assert.True(pins.IsHigh(5));
        Assert.True(pins.WaitUntil(p => !p.IsHigh(5), TimeSpan.FromSeconds(5)));
        PinEvent high = pins.Events.First(e => e.Kind == PinEventKind.High);
        PinEvent low = pins.Events.Last(e => e.Kind == PinEventKind.Low);
        Assert.InRange((low.At - high.At).TotalMilliseconds, 50, 2000);
    }

    [Fact]
    public void Cancelling_the_loop_releases_the_pins_even_mid_pulse()
    {
        Model model = TestModels.ExampleOrBuilt();
        using var cam = new SimulatedCamera(new SimulatedCameraOptions { FramesPerSecond = 200 });
        var pins = new RecordingPinController();
        // Fire on every class with a long pulse, so a pin is high when the loop is cancelled.
        var rules = Enumerable.Range(0, 10).Select(i => ActionRule.Parse($"{i}=gpio:{i + 2}:10000").Resolve(Labels)).ToArray();
        using var sink = new GpioActionSink(rules, pins);
        var loop = new ClassificationLoop(cam, Preprocessor.ForModel(model), new Interpreter(model));
        loop.AddSink(sink);
        using var cts = new CancellationTokenSource();
        loop.Classified += r =>
        {
            if (r.Number == 10) cts.Cancel();
        };
        LoopSummary s = loop.Run(cts.Token);
        Assert.Equal("cancelled", s.StopReason);
        Assert.True(sink.Pulses >= 1);
        for (int pin = 2; pin < 12; pin++)
        {
            Assert.False(pins.IsOpen(pin));
            Assert.False(pins.IsHigh(pin));
        }
    }

    [Fact]
    public void Console_controller_says_what_it_would_do()
    {
        var w = new StringWriter();
        var console = new ConsolePinController(w);
        using (var sink = new GpioActionSink(new[] { ActionRule.Parse("Bag=gpio:26").Resolve(Labels) }, console))
        {
            sink.OnResult(Result(8, 1f, 0));
        }
        string text = w.ToString();
        Assert.Contains("gpio 26: open as output", text);
        Assert.Contains("gpio 26: high", text);
        Assert.Contains("gpio 26: released", text);
    }
}
