using System.Diagnostics;
using XnorEdge.Format;
using XnorEdge.Operators;

namespace XnorEdge.Runtime;

/// <summary>
/// The interpreter's layer loop with a timestamp after every layer, for profiling (<c>xnoredge bench</c>):
/// the same work as <see cref="Interpreter.Run"/> (input copy, every layer's Execute, output read) and
/// <see cref="Stopwatch.GetTimestamp"/> ticks added per layer. Allocates nothing.
/// </summary>
public static class LayerTimer
{
    /// <summary>
    /// One inference on <paramref name="interpreter"/>; each layer's ticks are added to
    /// <paramref name="layerTicks"/>[layer index] (one entry per layer of the model).
    /// </summary>
    public static void Run(Interpreter interpreter, float[] input, float[] output, long[] layerTicks)
    {
        ArgumentNullException.ThrowIfNull(interpreter);
        Model model = interpreter.Model;
        Layer[] layers = model.Layers;
        if (input == null || input.Length != interpreter.InputLength) throw new ArgumentException($"input must have {interpreter.InputLength} values");
        if (output == null || output.Length != interpreter.OutputLength) throw new ArgumentException($"output must have {interpreter.OutputLength} values");
        if (layerTicks == null || layerTicks.Length < layers.Length) throw new ArgumentException($"layerTicks must have {layers.Length} entries");
        Array.Copy(input, 0, interpreter.Arena.Floats, interpreter.InputOffset, input.Length);
        byte[] data = model.Data;
        long t = Stopwatch.GetTimestamp();
        for (int i = 0; i < layers.Length; i++)
        {
            Layer layer = layers[i];
            if (data != null)
            {
                layer.Execute(interpreter.Arena, data, layer.ParamsOffset);
            }
            else
            {
                // A streamed model: the parameter block is read into the chunk buffer first (counted in the layer's time).
                if (layer.ParamsSize > 0) model.Source.Read(layer.ParamsOffset, model.Chunk, 0, layer.ParamsSize);
                layer.Execute(interpreter.Arena, model.Chunk, 0);
            }
            long now = Stopwatch.GetTimestamp();
            layerTicks[i] += now - t;
            t = now;
        }
        interpreter.ReadOutput(output);
    }
}
