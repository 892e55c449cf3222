namespace XnorEdge.Format
{
    /// <summary>A strict UTF-8 decoder (nanoFramework's mscorlib has no System.Text.Encoding).</summary>
    public static class Utf8
    {
        /// <summary>Decodes bytes [offset, offset+count); returns null when they are not valid UTF-8.</summary>
        public static string Decode(byte[] d, int offset, int count)
        {
            char[] chars = new char[count];
            int n = 0;
            int i = offset;
            int end = offset + count;
            while (i < end)
            {
                int b = d[i];
                int cp;
                int extra;
                if (b < 0x80) { cp = b; extra = 0; }
                else if (b >= 0xC2 && b < 0xE0) { cp = b & 0x1F; extra = 1; }
                else if (b >= 0xE0 && b < 0xF0) { cp = b & 0x0F; extra = 2; }
                else if (b >= 0xF0 && b < 0xF5) { cp = b & 0x07; extra = 3; }
                else return null;
                if (i + extra >= end && extra > 0) return null;
                for (int k = 1; k <= extra; k++)
                {
                    int c = d[i + k];
                    if ((c & 0xC0) != 0x80) return null;
                    cp = (cp << 6) | (c & 0x3F);
                }
                if ((extra == 2 && (cp < 0x800 || (cp >= 0xD800 && cp < 0xE000))) || (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
                {
                    return null;
                }
                i += extra + 1;
                if (cp >= 0x10000)
                {
                    cp -= 0x10000;
                    chars[n++] = (char)(0xD800 + (cp >> 10));
                    chars[n++] = (char)(0xDC00 + (cp & 0x3FF));
                }
                else
                {
                    chars[n++] = (char)cp;
                }
            }
            return new string(chars, 0, n);
        }
    }
}
