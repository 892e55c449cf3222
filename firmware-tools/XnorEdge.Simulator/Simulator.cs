using XnorEdge.Device;
using XnorEdge.Format;
using XnorEdge.Operators;

namespace XnorEdge.Simulation;

/// <summary>
/// What the simulator measures on this machine for one model, independent of the target: the real objects a
/// board would hold (built here with the portable core, exactly as on the board) and the operations the
/// scalar kernels count for one inference.
/// </summary>
public sealed class Measurement
{
    public required bool Streaming { get; init; }
    public required Model Model { get; init; }
    public required Interpreter Interpreter { get; init; }

    /// <summary>Arena pool lengths in elements (u32 words, floats, sbytes) and the arena's nano size.</summary>
    public required int ArenaWords { get; init; }
    public required int ArenaFloats { get; init; }
    public required int ArenaBytes { get; init; }
    public required ObjectSize Arena { get; init; }

    /// <summary>The model's bytes in RAM: the whole file (in memory) or the chunk buffer (streaming).</summary>
    public required int ModelBufferLength { get; init; }
    public required ObjectSize ModelBuffer { get; init; }

    /// <summary>Everything else the interpreter reaches: model, tensors, layers and their parts, metadata.</summary>
    public required ObjectSize Objects { get; init; }
    public required int ObjectCount { get; init; }

    /// <summary>The board pipeline: frame parser (payload buffer), gray-input table, scores; zero when the input is not gray.</summary>
    public required ObjectSize Device { get; init; }

    /// <summary>Static tables the core allocates once (the CRC-32 table).</summary>
    public required ObjectSize Statics { get; init; }

    /// <summary>Arrays a streamed load reads and drops (header, CRC buffer, tables, metadata) and one LayerContext, nano bytes.</summary>
    public required long LoadTransientNano { get; init; }

    /// <summary>The largest single array (nanoCLR caps one object at <see cref="Targets.MaxObjectBytes"/>).</summary>
    public required long LargestObjectNano { get; init; }
    public required string LargestObject { get; init; }

    /// <summary>Managed bytes this process allocated while loading the model and building the interpreter (CoreCLR).</summary>
    public required long HostAllocatedDuringLoad { get; init; }

    /// <summary>The same objects in CoreCLR's layout: what that allocation should be, transients aside.</summary>
    public required long HostEstimateOfLoad { get; init; }

    /// <summary>Counted operations of one inference, per layer, and the board's input and output handling.</summary>
    public required OpCounters[] PerLayer { get; init; }
    public required OpCounters InputOutput { get; init; }
}

public static class Simulator
{
    /// <summary>Managed bytes a board needs besides the model (loaded assemblies, threads, serial port, GPIO): an allowance.</summary>
    public const long BaselineAllowance = 24 * 1024;

    /// <summary>Flash for the nanoFramework class libraries and the sample app (.pe files): an allowance.</summary>
    public const long FrameworkPeAllowance = 100 * 1024;

    /// <summary>Managed objects of a file-backed model source on the board (FileStream and friends, path).</summary>
    public const long FileSourceAllowance = 512;

    /// <summary>Builds the model as a board would (from a file, streamed or in memory) and measures it.</summary>
    public static Measurement Measure(byte[] file, bool streaming)
    {
        // Warm-up: JIT and the static tables (CRC, popcount) are not part of the load.
        Build(file, streaming, out _);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Interpreter interpreter = Build(file, streaming, out IModelSource source);
        long hostAllocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Model m = interpreter.Model;

        // The model source of a streamed load stands for a file on the board: not sized here (an allowance is).
        var graph = new ObjectGraph(o => streaming && ReferenceEquals(o, source));
        ObjectSize arena = graph.Add(interpreter.Arena);
        byte[] buffer = streaming ? m.Chunk! : m.Data!;
        ObjectSize model = graph.Add(buffer);
        int before2 = graph.Count;
        ObjectSize objects = graph.Add(interpreter);
        int objectCount = graph.Count - before2;

        ObjectSize device = default;
        FrameClassifier? classifier = null;
        if (m.Input.Channels == 1)
        {
            classifier = new FrameClassifier(interpreter);
            var parser = new FrameParser(classifier.Width * classifier.Height);
            ObjectSize a = graph.Add(classifier);
            ObjectSize b = graph.Add(parser);
            device = new ObjectSize(a.Nano + b.Nano, a.Host + b.Host);
        }

        object? crcTable = typeof(Crc32).GetField("_table", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)?.GetValue(null);
        ObjectSize statics = graph.Add(crcTable);

        long transient = LayerContextNano();
        if (streaming)
        {
            transient += ArrayNano(ModelFormat.HeaderSize) + ArrayNano(Math.Min(Model.CrcChunkBytes, m.FileSize - ModelFormat.CrcStart))
                + ArrayNano(m.Tensors.Length * ModelFormat.TensorRecordSize) + ArrayNano(m.Layers.Length * ModelFormat.LayerRecordSize)
                + ArrayNano(MetadataSize(m));
        }

        (long largest, string largestName) = Largest(interpreter, buffer, streaming);

        // Count one inference the way the board runs it: a gray frame through the classifier, or the interpreter alone.
        var perLayer = m.Layers.Select(_ => new OpCounters()).ToArray();
        for (int i = 0; i < m.Layers.Length; i++) m.Layers[i].Counters = perLayer[i];
        var io = new OpCounters();
        if (classifier != null)
        {
            classifier.Classify(new byte[classifier.Width * classifier.Height], 0);
            io.ElementOps += m.Input.Elements;           // GrayInput.Fill: one table lookup per pixel
        }
        else
        {
            interpreter.Run(new float[interpreter.InputLength], new float[interpreter.OutputLength]);
            io.CopyCalls++;
            io.CopiedElements += m.Input.Elements;       // the input copy into the arena
        }
        io.ElementOps += 2L * m.Output.Elements;         // ReadOutput and the argmax
        for (int i = 0; i < m.Layers.Length; i++) m.Layers[i].Counters = null;

        return new Measurement
        {
            Streaming = streaming,
            Model = m,
            Interpreter = interpreter,
            ArenaWords = interpreter.Arena.Words.Length,
            ArenaFloats = interpreter.Arena.Floats.Length,
            ArenaBytes = interpreter.Arena.Bytes.Length,
            Arena = arena,
            ModelBufferLength = buffer.Length,
            ModelBuffer = model,
            Objects = objects,
            ObjectCount = objectCount,
            Device = device,
            Statics = statics,
            LoadTransientNano = transient,
            LargestObjectNano = largest,
            LargestObject = largestName,
            HostAllocatedDuringLoad = hostAllocated,
            // In memory the file's array existed before the load; streamed, the chunk is allocated by it.
            HostEstimateOfLoad = arena.Host + objects.Host + (streaming ? model.Host : 0),
            PerLayer = perLayer,
            InputOutput = io,
        };
    }

    private static Interpreter Build(byte[] file, bool streaming, out IModelSource source)
    {
        if (streaming)
        {
            source = new StreamedFile(file);
            return new Interpreter(Model.Load(source, null));
        }
        Model m = Model.Load(file, null);
        source = m.Source;
        return new Interpreter(m);
    }

    private static long ArrayNano(long bytes) => ObjectGraph.RoundUp(ObjectGraph.NanoArrayHeader + bytes, ObjectGraph.NanoBlock);

    private static long LayerContextNano() => ObjectGraph.SizeOf(new LayerContext(Array.Empty<byte>(), 0, 0, 0, 0, null!, null!, null!, 0, 0)).Nano;

    private static int MetadataSize(Model m) => m.Data != null
        ? (int)LittleEndian.U32(m.Data, ModelFormat.OffMetadataSize)
        : HeaderWord(m, ModelFormat.OffMetadataSize);

    private static int HeaderWord(Model m, int offset)
    {
        var b = new byte[4];
        m.Source.Read(offset, b, 0, 4);
        return (int)LittleEndian.U32(b, 0);
    }

    private static (long, string) Largest(Interpreter it, byte[] buffer, bool streaming)
    {
        var candidates = new (object Array, string Name)[]
        {
            (it.Arena.Words, "arena word pool"),
            (it.Arena.Floats, "arena float pool"),
            (it.Arena.Bytes, "arena byte pool"),
            (buffer, streaming ? "chunk buffer" : "model buffer"),
        };
        return candidates.Select(c => (ObjectGraph.SizeOf(c.Array).Nano, c.Name)).MaxBy(c => c.Nano);
    }

    /// <summary>A model source that copies from an array without being one (so the loader streams it), like a file on a board.</summary>
    private sealed class StreamedFile : IModelSource
    {
        private readonly byte[] _file;

        public StreamedFile(byte[] file) => _file = file;

        public int Length => _file.Length;

        public void Read(int offset, byte[] buffer, int bufferOffset, int count) => Array.Copy(_file, offset, buffer, bufferOffset, count);
    }
}
