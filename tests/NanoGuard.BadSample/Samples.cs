using System;
using System.Collections.Generic;

namespace NanoGuard.BadSample
{
    /// <summary>Each method uses exactly one construct that .NET nanoFramework 1.17 lacks (see the guard tests).</summary>
    public static class Samples
    {
        /// <summary>Generic type instantiation: System.Collections.Generic.List`1&lt;System.Int32&gt;.</summary>
        public static int UsesGenericList()
        {
            List<int> list = new List<int>();
            list.Add(1);
            return list.Count;
        }

        /// <summary>Generic method instantiation (MethodSpec) of a generic method defined here.</summary>
        public static int CallsGenericMethod()
        {
            return Identity<int>(7);
        }

        /// <summary>Generic method definition.</summary>
        public static T Identity<T>(T value)
        {
            return value;
        }

        /// <summary>System.Span`1: a generic instantiation (the type is missing from nanoFramework too).</summary>
        public static byte UsesSpan(byte[] data)
        {
            Span<byte> span = new Span<byte>(data);
            return span[0];
        }

        /// <summary>
        /// localloc. The switch (a jump table) and the comparison (ceq, a two-byte opcode) come first so that the
        /// IL walker has to step over both correctly to reach it.
        /// </summary>
        public static int UsesStackalloc(int n)
        {
            int k;
            switch (n)
            {
                case 0: k = 3; break;
                case 1: k = 5; break;
                case 2: k = 8; break;
                case 3: k = 13; break;
                default: k = 1; break;
            }
            bool same = n == k;
            Span<int> buffer = stackalloc int[4];
            buffer[0] = k;
            return same ? buffer[0] : -buffer[0];
        }

        /// <summary>Multi-dimensional array (rank 2).</summary>
        public static int UsesMultiDimensionalArray()
        {
            int[,] grid = new int[2, 3];
            grid[1, 2] = 4;
            return grid[1, 2];
        }

        /// <summary>Pointer type in a parameter.</summary>
        public static unsafe int DereferencesPointer(int* p)
        {
            return *p;
        }

        /// <summary>Pointer type in a local only (the signature is clean).</summary>
        public static unsafe int UsesPointerLocal(int x)
        {
            int* p = &x;
            return *p + 1;
        }

        /// <summary>Function pointer type in a local, called with calli.</summary>
        public static unsafe int UsesFunctionPointer()
        {
            delegate*<int, int> f = &Twice;
            return f(21);
        }

        private static int Twice(int x)
        {
            return 2 * x;
        }

        /// <summary>Clean: plain arrays, calls and exceptions only.</summary>
        public static uint UsesOnlyPlainConstructs(byte[] data)
        {
            byte[] copy = new byte[4];
            Array.Copy(data, copy, 4);
            uint value = BitConverter.ToUInt32(copy, 0);
            if (value == 0) throw new ArgumentException("zero: " + value.ToString());
            return value;
        }
    }

    /// <summary>Generic type definition.</summary>
    public sealed class Box<T>
    {
        public T Value;
    }
}
