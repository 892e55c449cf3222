using System.Reflection;
using System.Runtime.InteropServices;

[assembly: AssemblyTitle("XnorEdge.Nano.Native")]
[assembly: AssemblyDescription("XnorEdge native kernels for nanoFramework firmware: the interop declarations")]
[assembly: AssemblyProduct("XnorEdge")]
[assembly: AssemblyCulture("")]
[assembly: ComVisible(false)]
[assembly: AssemblyVersion("1.0.0.0")]
// The version of the native side (CLR_RT_NativeAssemblyData in XnorEdge_Nano_Native.cpp): keep both equal.
[assembly: AssemblyNativeVersion("1.0.0.0")]
