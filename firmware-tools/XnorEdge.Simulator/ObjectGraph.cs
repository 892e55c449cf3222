using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;

namespace XnorEdge.Simulation;

/// <summary>The size of one object under two memory layouts.</summary>
public readonly record struct ObjectSize(long Nano, long Host);

/// <summary>
/// Walks a real object graph (the loaded model, its interpreter, the board pipeline) and sizes every object
/// twice: as nanoCLR lays it out on a 32-bit MCU and as CoreCLR does on this 64-bit host (the latter only to
/// check the inventory against what the host actually allocates). nanoCLR rules (nf-interpreter,
/// src/CLR/Include/nanoCLR_Runtime__HeapBlock.h and src/CLR/Core/Execution.cpp): memory comes in 12-byte heap
/// blocks; a class instance takes one block for its header and one per instance field, whatever the field's
/// type; an array takes a 20-byte header plus its elements (1, 2, 4 or 8 bytes for numbers, a 12-byte block per
/// reference), rounded up to blocks; a string a 12-byte header plus its UTF-8 bytes and a NUL, rounded up.
/// </summary>
public sealed class ObjectGraph
{
    public const int NanoBlock = 12;
    public const int NanoArrayHeader = 20;

    private readonly HashSet<object> _seen = new(ReferenceEqualityComparer.Instance);
    private readonly Func<object, bool> _stop;

    /// <param name="stop">Objects not to size or enter (sources backed by a file or a stream, for instance).</param>
    public ObjectGraph(Func<object, bool>? stop = null)
    {
        _stop = stop ?? (_ => false);
    }

    public int Count { get; private set; }

    public long NanoBytes { get; private set; }

    public long HostBytes { get; private set; }

    /// <summary>Adds <paramref name="root"/> and everything it reaches that is not counted yet; returns what was added.</summary>
    public ObjectSize Add(object? root)
    {
        long nano = 0, host = 0;
        var stack = new Stack<object>();
        if (root != null) stack.Push(root);
        while (stack.Count > 0)
        {
            object o = stack.Pop();
            if (_stop(o) || !_seen.Add(o)) continue;
            ObjectSize s = SizeOf(o);
            nano += s.Nano;
            host += s.Host;
            Count++;
            foreach (object child in Children(o)) stack.Push(child);
        }
        NanoBytes += nano;
        HostBytes += host;
        return new ObjectSize(nano, host);
    }

    /// <summary>True when <paramref name="o"/> has been counted already.</summary>
    public bool Contains(object o) => _seen.Contains(o);

    public static ObjectSize SizeOf(object o)
    {
        Type t = o.GetType();
        if (o is string s)
        {
            return new ObjectSize(RoundUp(NanoBlock + Encoding.UTF8.GetByteCount(s) + 1, NanoBlock), RoundUp(Math.Max(24, 22 + 2L * s.Length), 8));
        }
        if (o is Array a)
        {
            Type e = t.GetElementType()!;
            return new ObjectSize(RoundUp(NanoArrayHeader + (long)a.Length * NanoElement(e), NanoBlock), RoundUp(24 + (long)a.Length * HostElement(e), 8));
        }
        FieldInfo[] fields = InstanceFields(t);
        long hostFields = fields.Sum(f => (long)HostElement(f.FieldType));
        return new ObjectSize((long)NanoBlock * (1 + fields.Length), Math.Max(24, 16 + RoundUp(hostFields, 8)));
    }

    private static IEnumerable<object> Children(object o)
    {
        if (o is string) yield break;
        if (o is Array a)
        {
            if (a.GetType().GetElementType()!.IsValueType) yield break;
            foreach (object? item in a)
            {
                if (item != null) yield return item;
            }
            yield break;
        }
        foreach (FieldInfo f in InstanceFields(o.GetType()))
        {
            if (f.FieldType.IsValueType) continue;
            object? v = f.GetValue(o);
            if (v != null) yield return v;
        }
    }

    private static readonly Dictionary<Type, FieldInfo[]> FieldCache = new();

    private static FieldInfo[] InstanceFields(Type t)
    {
        lock (FieldCache)
        {
            if (FieldCache.TryGetValue(t, out FieldInfo[]? cached)) return cached;
            var list = new List<FieldInfo>();
            for (Type? c = t; c != null && c != typeof(object); c = c.BaseType)
            {
                list.AddRange(c.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly));
            }
            FieldInfo[] fields = list.ToArray();
            FieldCache[t] = fields;
            return fields;
        }
    }

    /// <summary>Bytes per array element on nanoCLR (c_CLR_RT_DataTypeLookup sizes; a reference is a 12-byte heap block).</summary>
    public static int NanoElement(Type e)
    {
        if (!e.IsValueType) return NanoBlock;
        if (e.IsEnum) e = Enum.GetUnderlyingType(e);
        if (e == typeof(bool) || e == typeof(byte) || e == typeof(sbyte)) return 1;
        if (e == typeof(char) || e == typeof(short) || e == typeof(ushort)) return 2;
        if (e == typeof(int) || e == typeof(uint) || e == typeof(float)) return 4;
        if (e == typeof(long) || e == typeof(ulong) || e == typeof(double)) return 8;
        return NanoBlock;
    }

    /// <summary>Bytes per field or element in CoreCLR's 64-bit layout.</summary>
    public static int HostElement(Type e)
    {
        if (!e.IsValueType) return 8;
        if (e.IsEnum) e = Enum.GetUnderlyingType(e);
        if (e == typeof(bool) || e == typeof(byte) || e == typeof(sbyte)) return 1;
        if (e == typeof(char) || e == typeof(short) || e == typeof(ushort)) return 2;
        if (e == typeof(int) || e == typeof(uint) || e == typeof(float)) return 4;
        return 8;
    }

    public static long RoundUp(long v, int unit) => (v + unit - 1) / unit * unit;
}
