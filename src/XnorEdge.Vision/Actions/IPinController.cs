namespace XnorEdge.Vision.Actions;

/// <summary>Digital output pins (GPIO). Implementations: <see cref="ConsolePinController"/>, <see cref="RecordingPinController"/>, or a real one (libgpiod, sysfs) in an application.</summary>
public interface IPinController
{
    /// <summary>Claims <paramref name="pin"/> as an output, driven low.</summary>
    void Open(int pin);

    void Write(int pin, bool high);

    /// <summary>Releases <paramref name="pin"/> (after driving it low).</summary>
    void Close(int pin);
}
