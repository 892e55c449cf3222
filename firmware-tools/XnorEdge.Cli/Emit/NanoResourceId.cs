namespace XnorEdge.Cli.Emit;

/// <summary>
/// The 16-bit id nanoFramework gives a resource: its build (the metadata processor) and its generated
/// Resources.Designer.cs both derive it from the resource name, so code that reads a resource by id (an
/// enum value passed to ResourceUtility.GetObject) must use the same value. The function: two
/// interleaved "hash * 33 XOR char" streams over the name's UTF-16 characters (even and odd positions),
/// both seeded with 5381 * 65537, combined as h1 + h2 * 1566083941 and folded to 16 bits by XOR-ing the
/// two halves.
/// </summary>
public static class NanoResourceId
{
    public static short Compute(string name)
    {
        const int Seed = (5381 << 16) + 5381;
        int even = Seed, odd = Seed;
        for (int i = 0; i < name.Length; i++)
        {
            unchecked
            {
                if ((i & 1) == 0) even = (even * 33) ^ name[i];
                else odd = (odd * 33) ^ name[i];
            }
        }
        int h = unchecked(even + odd * 1566083941);
        return unchecked((short)((short)(h >> 16) ^ (short)h));
    }
}
