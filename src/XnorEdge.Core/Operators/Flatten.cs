using System;
using XnorEdge.Format;
using XnorEdge.Planning;

namespace XnorEdge.Operators
{
    /// <summary>
    /// H x W x C to 1 x 1 x (H*W*C) in HWC order, same element type. Bits are repacked so that the
    /// values are contiguous (each pixel's padding bits removed); other types are copied.
    /// </summary>
    public class Flatten : Layer
    {
        public Flatten(LayerContext ctx) : base(ctx)
        {
            ctx.RequireType(ctx.Input0, "input", DataType.Bits, DataType.Int32, DataType.Float32);
            ctx.RequireType(ctx.Output, "output", ctx.Input0.Type, 0, 0);
            ctx.RequireNoSecondInput();
            ctx.RequireShape(ctx.Output, "output", 1, 1, ctx.Input0.Elements);
            PayloadBytes = ctx.End();
        }

        public override void Execute(Arena arena, byte[] p, int pBase)
        {
            TensorInfo x = Input0;
            OpCounters oc = Counters;
            if (oc != null)
            {
                oc.CopyCalls++;
                oc.CopiedElements += x.Type == DataType.Float32 ? x.Elements : x.Type == DataType.Bits ? Output.StorageLength : x.StorageLength;
                if (x.Type == DataType.Bits && (x.Channels & 31) != 0) oc.ElementOps += x.Elements;
            }
            if (x.Type == DataType.Float32)
            {
                Array.Copy(arena.Floats, arena.Offset(x), arena.Floats, arena.Offset(Output), x.Elements);
                return;
            }
            uint[] words = arena.Words;
            if (x.Type == DataType.Int32 || (x.Channels & 31) == 0)
            {
                Array.Copy(words, arena.Offset(x), words, arena.Offset(Output), x.StorageLength);
                return;
            }
            int c = x.Channels;
            int wpp = x.WordsPerPixel;
            int inOff = arena.Offset(x);
            int outOff = arena.Offset(Output);
            Array.Clear(words, outOff, Output.StorageLength);
            int i = 0;
            for (int px = 0; px < x.Pixels; px++)
            {
                for (int k = 0; k < c; k++, i++)
                {
                    uint bit = (words[inOff + px * wpp + (k >> 5)] >> (k & 31)) & 1u;
                    words[outOff + (i >> 5)] |= bit << (i & 31);
                }
            }
        }
    }
}
