namespace XnorEdge.Format
{
    /// <summary>CRC-32 (IEEE 802.3: reflected polynomial 0xEDB88320, initial value and final XOR 0xFFFFFFFF).</summary>
    public static class Crc32
    {
        private static uint[] _table;

        private static uint[] Table
        {
            get
            {
                if (_table == null)
                {
                    uint[] t = new uint[256];
                    for (uint i = 0; i < 256; i++)
                    {
                        uint c = i;
                        for (int k = 0; k < 8; k++)
                        {
                            c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
                        }
                        t[i] = c;
                    }
                    _table = t;
                }
                return _table;
            }
        }

        /// <summary>Starts a running CRC (pass the result to <see cref="Update"/>, then <see cref="Finish"/>).</summary>
        public const uint Initial = 0xFFFFFFFF;

        public static uint Update(uint state, byte[] data, int offset, int count)
        {
            uint[] t = Table;
            int end = offset + count;
            for (int i = offset; i < end; i++)
            {
                state = t[(state ^ data[i]) & 0xFF] ^ (state >> 8);
            }
            return state;
        }

        public static uint Finish(uint state)
        {
            return state ^ 0xFFFFFFFF;
        }

        public static uint Compute(byte[] data, int offset, int count)
        {
            return Finish(Update(Initial, data, offset, count));
        }
    }
}
