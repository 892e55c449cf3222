// xnoredge-pi: `xnoredge classify` on a Raspberry Pi. The command, its options, output and exit codes
// are the CLI's (XnorEdge.Cli.Commands.ClassifyCommand, tested there); this app only adds the V4L2
// camera source and real GPIO pins. Arguments are classify's; a leading "classify" is allowed.
using XnorEdge.Cli.Commands;
using XnorEdge.Pi;

var platform = new ClassifyPlatform
{
    Name = "xnoredge-pi",
    OpenSource = (spec, labels) => V4l2FrameSource.TryParse(spec),
    CreatePins = _ => new GpioPinController(),
    LogActions = true,
};
return ClassifyCommand.RunAsRoot(args, Console.Out, Console.Error, platform);
