using System.Device.Gpio;
using XnorEdge.Pi;

namespace XnorEdge.Pi.Tests;

/// <summary>A GpioDriver test double: records what the controller asks of it; pins listed in <see cref="Busy"/> cannot be opened.</summary>
public sealed class FakeGpioDriver : GpioDriver
{
    public readonly List<string> Calls = new();
    public readonly Dictionary<int, PinValue> Values = new();
    public readonly HashSet<int> Busy = new();

    protected override int PinCount => 28;

    protected override void OpenPin(int pinNumber)
    {
        if (Busy.Contains(pinNumber)) throw new IOException($"pin {pinNumber} is busy");
        Calls.Add($"open {pinNumber}");
    }

    protected override void ClosePin(int pinNumber) => Calls.Add($"close {pinNumber}");

    protected override void SetPinMode(int pinNumber, PinMode mode) => Calls.Add($"mode {pinNumber} {mode}");

    protected override PinMode GetPinMode(int pinNumber) => PinMode.Output;

    protected override bool IsPinModeSupported(int pinNumber, PinMode mode) => true;

    protected override PinValue Read(int pinNumber) => Values.TryGetValue(pinNumber, out PinValue v) ? v : PinValue.Low;

    protected override void Write(int pinNumber, PinValue value)
    {
        Values[pinNumber] = value;
        Calls.Add($"write {pinNumber} {(value == PinValue.High ? "high" : "low")}");
    }

    protected override WaitForEventResult WaitForEvent(int pinNumber, PinEventTypes eventTypes, CancellationToken cancellationToken) => throw new NotSupportedException();

    protected override void AddCallbackForPinValueChangedEvent(int pinNumber, PinEventTypes eventTypes, PinChangeEventHandler callback) => throw new NotSupportedException();

    protected override void RemoveCallbackForPinValueChangedEvent(int pinNumber, PinChangeEventHandler callback) => throw new NotSupportedException();
}

public class GpioPinControllerTests
{
    [Fact]
    public void Pins_are_opened_low_as_outputs_written_and_closed()
    {
        var driver = new FakeGpioDriver();
        using (var pins = new GpioPinController(() => new GpioController(driver)))
        {
            pins.Open(17);
            Assert.Equal(PinValue.Low, driver.Values[17]);
            pins.Write(17, true);
            Assert.Equal(PinValue.High, driver.Values[17]);
            pins.Write(17, false);
            pins.Close(17);
            pins.Close(17); // already closed: nothing more
        }
        Assert.Equal(1, driver.Calls.Count(c => c == "open 17"));
        Assert.Equal(1, driver.Calls.Count(c => c == "close 17"));
        Assert.Contains("mode 17 Output", driver.Calls);
        Assert.Equal(new[] { "write 17 high", "write 17 low" }, driver.Calls.Where(c => c.StartsWith("write", StringComparison.Ordinal)).SkipWhile(c => c != "write 17 high"));
    }

    [Fact]
    public void A_pin_that_cannot_be_claimed_is_one_io_error_naming_it()
    {
        var driver = new FakeGpioDriver();
        driver.Busy.Add(4);
        using var pins = new GpioPinController(() => new GpioController(driver));
        var e = Assert.Throws<IOException>(() => pins.Open(4));
        Assert.StartsWith("gpio 4: cannot open it as an output: ", e.Message);
        Assert.Contains("gpio group", e.Message);
    }
}
