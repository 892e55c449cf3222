namespace XnorEdge.Planning
{
    /// <summary>
    /// Places buffers with known lifetimes [first, last] (layer indices, inclusive) in one pool so that
    /// buffers alive at the same time never overlap: largest first (ties in the order they were added),
    /// each at the lowest offset where it collides with no placed buffer alive at the same time (the greedy
    /// planner of TensorFlow Lite Micro). Buffers whose lifetimes are disjoint share memory.
    /// Each buffer's collisions are found among the placed buffers alive at the same time, either listed through
    /// an interval tree and sorted (when there are few: a chain of layers is n log n in all) or by walking every
    /// placed buffer in offset order (when most are alive together), whichever is cheaper; the worst case is
    /// quadratic in simple steps and bounded by the loader's layer cap (<see cref="Format.ModelFormat.MaxLayers"/>).
    /// Only arrays: the planner runs on nanoFramework.
    /// </summary>
    public sealed class ArenaPlanner
    {
        private int[] _size = new int[16];
        private int[] _first = new int[16];
        private int[] _last = new int[16];
        private int _count;

        // Plan's working state: buffers sorted by 'first', a max-of-'last' tree over that order (leaves at
        // _leafBase..), which buffers are placed, and the placed time-overlapping buffers of the current one.
        private int[] _byFirst;
        private int[] _maxLast;
        private int _leafBase;
        private bool[] _placed;
        private int[] _found;
        private int _foundCount;

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
            if (n == 0) return 0;
            int[] tmp = new int[n];
            int[] key = new int[n];

            // Placement order: size descending, ties by id (a stable sort keeps plans deterministic).
            int[] order = new int[n];
            for (int i = 0; i < n; i++)
            {
                order[i] = i;
                key[i] = -_size[i];
            }
            SortByKey(order, key, tmp);

            // Buffers by first layer, and over that order a tree holding the largest 'last' of each subtree,
            // to list the buffers alive during [first, last] without looking at the others.
            _byFirst = new int[n];
            for (int i = 0; i < n; i++) _byFirst[i] = i;
            SortByKey(_byFirst, _first, tmp);
            _leafBase = 1;
            while (_leafBase < n) _leafBase <<= 1;
            _maxLast = new int[2 * _leafBase];
            for (int i = 0; i < _maxLast.Length; i++) _maxLast[i] = int.MinValue;
            for (int i = 0; i < n; i++) _maxLast[_leafBase + i] = _last[_byFirst[i]];
            for (int i = _leafBase - 1; i >= 1; i--)
            {
                int a = _maxLast[2 * i];
                int b = _maxLast[2 * i + 1];
                _maxLast[i] = a > b ? a : b;
            }
            // The last layers in ascending order: with the first layers, counts the buffers alive during an interval.
            int[] byLast = new int[n];
            for (int i = 0; i < n; i++) byLast[i] = i;
            SortByKey(byLast, _last, tmp);
            int[] lastSorted = new int[n];
            for (int i = 0; i < n; i++) lastSorted[i] = _last[byLast[i]];
            byLast = null;

            // The placed non-empty buffers by offset.
            int[] byOffset = new int[n];
            int placedCount = 0;

            _placed = new bool[n];
            _found = new int[16];
            int total = 0;
            for (int k = 0; k < n; k++)
            {
                int b = order[k];
                int size = _size[b];
                int offset = 0;
                if (size > 0)
                {
                    // The buffers alive at the same time as b (placed or not): those starting by its last layer
                    // minus those ending before its first.
                    int end = UpperBoundFirst(_last[b]);
                    int alive = end - LowerBound(lastSorted, _first[b]);
                    if ((long)alive * Log2(alive + 1) < placedCount)
                    {
                        // Few: list the placed ones through the tree, sort them by offset, take the first gap.
                        _foundCount = 0;
                        if (end > 0) Collect(1, 0, _leafBase, end, _first[b]);
                        for (int i = 0; i < _foundCount; i++) key[_found[i]] = offsets[_found[i]];
                        SortPrefixByKey(_found, _foundCount, key, tmp);
                        for (int i = 0; i < _foundCount; i++)
                        {
                            int o = _found[i];
                            if (offsets[o] >= offset + size) break;
                            int oEnd = offsets[o] + _size[o];
                            if (oEnd > offset) offset = oEnd;
                        }
                    }
                    else
                    {
                        // Many: walk every placed buffer by offset, skipping those alive at other times.
                        for (int i = 0; i < placedCount; i++)
                        {
                            int o = byOffset[i];
                            if (_last[o] < _first[b] || _last[b] < _first[o]) continue;
                            if (offsets[o] >= offset + size) break;
                            int oEnd = offsets[o] + _size[o];
                            if (oEnd > offset) offset = oEnd;
                        }
                    }
                    // Insert b into the offset order (after any at the same offset).
                    int lo = 0;
                    int hi = placedCount;
                    while (lo < hi)
                    {
                        int mid = lo + ((hi - lo) >> 1);
                        if (offsets[byOffset[mid]] <= offset) lo = mid + 1;
                        else hi = mid;
                    }
                    if (lo < placedCount) System.Array.Copy(byOffset, lo, byOffset, lo + 1, placedCount - lo);
                    byOffset[lo] = b;
                    placedCount++;
                }
                offsets[b] = offset;
                _placed[b] = true;
                if (offset + size > total) total = offset + size;
            }
            _byFirst = null;
            _maxLast = null;
            _placed = null;
            _found = null;
            return total;
        }

        /// <summary>How many values of the ascending array <paramref name="sorted"/> are below <paramref name="value"/>.</summary>
        private static int LowerBound(int[] sorted, int value)
        {
            int lo = 0;
            int hi = sorted.Length;
            while (lo < hi)
            {
                int mid = lo + ((hi - lo) >> 1);
                if (sorted[mid] < value) lo = mid + 1;
                else hi = mid;
            }
            return lo;
        }

        /// <summary>floor(log2(v)) + 1 for v &gt; 0: the cost factor of sorting v items.</summary>
        private static int Log2(int v)
        {
            int bits = 0;
            while (v > 0)
            {
                bits++;
                v >>= 1;
            }
            return bits;
        }

        /// <summary>How many buffers (in first-layer order) start at or before layer <paramref name="layer"/>.</summary>
        private int UpperBoundFirst(int layer)
        {
            int lo = 0;
            int hi = _count;
            while (lo < hi)
            {
                int mid = lo + ((hi - lo) >> 1);
                if (_first[_byFirst[mid]] <= layer) lo = mid + 1;
                else hi = mid;
            }
            return lo;
        }

        /// <summary>
        /// Adds to <see cref="_found"/> the placed non-empty buffers among positions [0, end) of the first-layer
        /// order whose last layer is at least <paramref name="from"/>; node covers positions [lo, lo + span).
        /// </summary>
        private void Collect(int node, int lo, int span, int end, int from)
        {
            if (lo >= end || _maxLast[node] < from) return;
            if (span == 1)
            {
                int o = _byFirst[lo];
                if (_placed[o] && _size[o] > 0)
                {
                    if (_foundCount == _found.Length) _found = Grow(_found);
                    _found[_foundCount++] = o;
                }
                return;
            }
            int half = span >> 1;
            Collect(2 * node, lo, half, end, from);
            Collect(2 * node + 1, lo + half, half, end, from);
        }

        /// <summary>Stable merge sort of <paramref name="items"/> by key[item], ascending.</summary>
        private static void SortByKey(int[] items, int[] key, int[] tmp)
        {
            SortPrefixByKey(items, items.Length, key, tmp);
        }

        /// <summary>Stable bottom-up merge sort of items[0..count) by key[item], ascending; tmp holds at least count.</summary>
        private static void SortPrefixByKey(int[] items, int count, int[] key, int[] tmp)
        {
            int[] src = items;
            int[] dst = tmp;
            for (int width = 1; width < count; width <<= 1)
            {
                for (int lo = 0; lo < count; lo += 2 * width)
                {
                    int mid = lo + width;
                    if (mid > count) mid = count;
                    int hi = lo + 2 * width;
                    if (hi > count) hi = count;
                    int i = lo;
                    int j = mid;
                    int o = lo;
                    while (i < mid && j < hi) dst[o++] = key[src[j]] < key[src[i]] ? src[j++] : src[i++];
                    while (i < mid) dst[o++] = src[i++];
                    while (j < hi) dst[o++] = src[j++];
                }
                int[] swap = src;
                src = dst;
                dst = swap;
            }
            if (src != items) System.Array.Copy(src, items, count);
        }

        private static int[] Grow(int[] a)
        {
            int[] b = new int[a.Length * 2];
            System.Array.Copy(a, b, a.Length);
            return b;
        }
    }
}
