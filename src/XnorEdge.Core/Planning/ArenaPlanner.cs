namespace XnorEdge.Planning
{
    /// <summary>
    /// Places buffers with known lifetimes [first, last] (layer indices, inclusive) in one pool so that
    /// buffers alive at the same time never overlap: largest first, each at the lowest offset that fits
    /// (the greedy planner of TensorFlow Lite Micro). Buffers whose lifetimes are disjoint share memory.
    /// </summary>
    public sealed class ArenaPlanner
    {
        private int[] _size = new int[16];
        private int[] _first = new int[16];
        private int[] _last = new int[16];
        private int _count;

        public int Count
        {
            get { return _count; }
        }

        /// <summary>Adds a buffer and returns its id.</summary>
        public int Add(int size, int first, int last)
        {
            if (_count == _size.Length)
            {
                _size = Grow(_size);
                _first = Grow(_first);
                _last = Grow(_last);
            }
            _size[_count] = size;
            _first[_count] = first;
            _last[_count] = last;
            return _count++;
        }

        /// <summary>Computes the offsets (indexed by buffer id) and returns the pool size needed.</summary>
        public int Plan(int[] offsets)
        {
            int n = _count;
            int[] order = new int[n];
            for (int i = 0; i < n; i++) order[i] = i;
            // Insertion sort by size, descending; ties keep the order of creation (deterministic plans).
            for (int i = 1; i < n; i++)
            {
                int v = order[i];
                int j = i - 1;
                while (j >= 0 && _size[order[j]] < _size[v])
                {
                    order[j + 1] = order[j];
                    j--;
                }
                order[j + 1] = v;
            }
            bool[] placed = new bool[n];
            int total = 0;
            for (int k = 0; k < n; k++)
            {
                int b = order[k];
                int offset = 0;
                bool moved = true;
                // Move past every placed, overlapping-in-time buffer that collides until none does.
                while (moved)
                {
                    moved = false;
                    for (int o = 0; o < n; o++)
                    {
                        if (!placed[o] || _last[o] < _first[b] || _last[b] < _first[o]) continue;
                        int end = offsets[o] + _size[o];
                        if (offset < end && offsets[o] < offset + _size[b] && _size[b] > 0 && _size[o] > 0)
                        {
                            offset = end;
                            moved = true;
                        }
                    }
                }
                offsets[b] = offset;
                placed[b] = true;
                if (offset + _size[b] > total) total = offset + _size[b];
            }
            return total;
        }

        private static int[] Grow(int[] a)
        {
            int[] b = new int[a.Length * 2];
            System.Array.Copy(a, b, a.Length);
            return b;
        }
    }
}
