using XnorEdge.BitPacking;
using XnorEdge.Format;
using XnorEdge.Planning;

namespace XnorEdge.Operators
{
    /// <summary>
    /// Binarises and packs activations: bit 1 (-1) where x &lt; 0, bit 0 (+1) elsewhere (sign(0) = +1).
    /// INT32 or FLOAT32 in, Bits out (same shape). No attributes, no payload.
    /// </summary>
    public class Sign : Layer
    {
        public Sign(LayerContext ctx) : base(ctx)
        {
            ctx.RequireType(ctx.Input0, "input", DataType.Int32, DataType.Float32, 0);
            ctx.RequireType(ctx.Output, "output", DataType.Bits, 0, 0);
            ctx.RequireNoSecondInput();
            TensorInfo x = ctx.Input0;
            ctx.RequireShape(ctx.Output, "output", x.Height, x.Width, x.Channels);
            PayloadBytes = ctx.End();
            RealOps = x.Elements;
        }

        public override void Execute(Arena arena, byte[] p, int pBase)
        {
            int c = Input0.Channels;
            int wpp = Input0.WordsPerPixel;
            int pixels = Input0.Pixels;
            bool isFloat = Input0.Type == DataType.Float32;
            float[] f = arena.Floats;
            uint[] words = arena.Words;
            OpCounters oc = Counters;
            int inOff = arena.Offset(Input0);
            int outOff = arena.Offset(Output);
            for (int px = 0; px < pixels; px++)
            {
                if (oc != null) oc.ElementOps += c;
                int src = inOff + px * c;
                int dst = outOff + px * wpp;
                if (isFloat) BitPack.PackSigns(f, src, c, words, dst);
                else BitPack.PackSignsOfInts(words, src, c, words, dst);
            }
        }
    }
}
