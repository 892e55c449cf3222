namespace XnorEdge.BitPacking
{
    /// <summary>
    /// Population count of a 32-bit word without BitOperations (absent on nanoFramework). Two portable
    /// variants. <see cref="Swar"/> is the one the scalar paths use, the faster of the two both under the JIT and on the
    /// nanoFramework interpreter (the nanoCLR measurement record in firmware-tools/XnorEdge.Simulator/cost-table.md
    /// section 6.1; tests/XnorEdge.Benchmarks/PopcountBenchmarks.cs compares the two under the JIT). Only the
    /// innermost XOR-popcount loops of XnorConv2D and XnorDense inline it, deliberately: on the nanoFramework
    /// interpreter a call costs ~40 ns against ~260 ns for the word; every other place calls it.
    /// </summary>
    public static class Popcount
    {
        private static byte[] _table;

        /// <summary>SWAR ("SIMD within a register"): pairs, nibbles, bytes, then one multiply sums the bytes.</summary>
        public static int Swar(uint x)
        {
            x = x - ((x >> 1) & 0x55555555u);
            x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
            x = (x + (x >> 4)) & 0x0F0F0F0Fu;
            return (int)((x * 0x01010101u) >> 24);
        }

        /// <summary>Four lookups in a 256-entry byte table.</summary>
        public static int Table(uint x)
        {
            byte[] t = LookupTable;
            return t[x & 0xFF] + t[(x >> 8) & 0xFF] + t[(x >> 16) & 0xFF] + t[x >> 24];
        }

        public static byte[] LookupTable
        {
            get
            {
                if (_table == null)
                {
                    byte[] t = new byte[256];
                    for (int i = 1; i < 256; i++) t[i] = (byte)((i & 1) + t[i >> 1]);
                    _table = t;
                }
                return _table;
            }
        }
    }
}
