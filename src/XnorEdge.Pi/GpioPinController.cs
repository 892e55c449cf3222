using System.Device.Gpio;
using XnorEdge.Vision.Actions;

namespace XnorEdge.Pi;

/// <summary>
/// Real pins for <c>--on</c> actions: <see cref="GpioController"/> (libgpiod on Raspberry Pi OS), BCM
/// numbering. Opened as outputs driven low; closed (after the action sink has driven them low) at the
/// end. A pin that cannot be claimed is an <see cref="IOException"/> naming it (one line, exit code 2).
/// </summary>
public sealed class GpioPinController : IPinController, IDisposable
{
    private readonly Func<GpioController> _create;
    private GpioController? _gpio;

    /// <summary>The board's pins (<c>new GpioController()</c>, opened on the first <see cref="Open"/>).</summary>
    public GpioPinController() : this(() => new GpioController())
    {
    }

    /// <param name="create">Makes the controller on the first <see cref="Open"/> (tests: <c>new GpioController(driver)</c> over a fake driver).</param>
    public GpioPinController(Func<GpioController> create)
    {
        _create = create;
    }

    public void Open(int pin)
    {
        try
        {
            _gpio ??= _create();
            _gpio.OpenPin(pin, PinMode.Output, PinValue.Low);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new IOException($"gpio {pin}: cannot open it as an output: {e.Message} (is the user in the gpio group?)", e);
        }
    }

    public void Write(int pin, bool high) => _gpio!.Write(pin, high ? PinValue.High : PinValue.Low);

    public void Close(int pin)
    {
        if (_gpio is not null && _gpio.IsPinOpen(pin)) _gpio.ClosePin(pin);
    }

    public void Dispose()
    {
        _gpio?.Dispose();
        _gpio = null;
    }
}
