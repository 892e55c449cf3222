using BenchmarkDotNet.Running;
using XnorEdge.Benchmarks;

// "sweep" and "cref" are the Stopwatch drivers of run-benchmarks.sh (see SpeedupSweep); anything else goes to BenchmarkDotNet.
if (args.Length > 0 && args[0] is "sweep" or "cref" or "layers" or "onnx" or "pool" or "first") return SpeedupSweep.Run(args);
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
