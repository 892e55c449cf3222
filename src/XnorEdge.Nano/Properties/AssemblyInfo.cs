using System.Reflection;
using System.Runtime.InteropServices;

[assembly: AssemblyTitle("XnorEdge.Nano")]
[assembly: AssemblyDescription("XnorEdge binary neural network runtime for .NET nanoFramework: the portable core and board-side model sources")]
[assembly: AssemblyProduct("XnorEdge")]
[assembly: AssemblyCulture("")]
[assembly: ComVisible(false)]
[assembly: AssemblyVersion("1.0.0.0")]
