// xnoredge-pi: `xnoredge classify` on a Raspberry Pi. The run (options' meaning, output, exit codes,
// Ctrl+C/SIGTERM) is XnorEdge.Vision's ClassifyRunner, shared with the CLI; this app parses its own
// command line (PiApp, PiArguments) and adds the V4L2 camera device and real GPIO pins.
using XnorEdge.Pi;

return PiApp.Run(args, Console.Out, Console.Error, PiApp.Platform());
