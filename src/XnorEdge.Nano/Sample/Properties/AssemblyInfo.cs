using System.Reflection;
using System.Runtime.InteropServices;

[assembly: AssemblyTitle("XnorEdge.Nano.Sample")]
[assembly: AssemblyDescription("Classifies GRAY8 frames from a UART with an XnorEdge model and pulses a GPIO pin")]
[assembly: AssemblyProduct("XnorEdge")]
[assembly: AssemblyCulture("")]
[assembly: ComVisible(false)]
[assembly: AssemblyVersion("1.0.0.0")]
