using System;

namespace XnorEdge.Device
{
    /// <summary>
    /// Object framing: turns a camera's gray plane (any size) into a model input that looks like a
    /// Fashion-MNIST-style training image: the object found in the frame, cropped square with the training
    /// set's margin, bright on a black ground, contrast stretched to 0..255, area-resized to the model's
    /// input size. The one implementation: the MCU's <see cref="FrameClassifier"/> and the host's vision
    /// pipeline (XnorEdge.Vision's Preprocessor) both call it.
    /// <para>Per frame (<see cref="Frame"/>):</para>
    /// <list type="number">
    /// <item>a coarse grid (at most <see cref="GridSize"/> cells a side) of cell means (every pixel, or every n-th
    /// pixel and row of frames longer than 2 x 160 pixels);</item>
    /// <item>background: a smooth model fitted to the grid's outer ring of cells, level + tilt + radial falloff
    /// (uneven lighting, vignetting), refitted without the ring cells that are far off (an object reaching the
    /// border); its spread is the robust spread of the ring's residuals (texture and noise);</item>
    /// <item>a cell is foreground when it differs from the model by more than the threshold
    /// T = max(<see cref="MinContrast"/>, <see cref="ThresholdSpreads"/> x spread); the polarity (object brighter
    /// or darker than the ground) is the side with more excess over T;</item>
    /// <item>connected foreground cells (cells up to <see cref="LinkCells"/> apart belong together); the largest
    /// component is the object when it covers at least <see cref="MinObjectCells"/> cells, else the frame has
    /// no object (<see cref="Found"/> false);</item>
    /// <item>crop: a square (the output's aspect) centred on the object's bounding box, side = <see cref="Margin"/>
    /// x the box's longer side (Fashion-MNIST items span the whole 28 pixels on their longer side: measured on the
    /// last 5,000 training images, median 28, mean 27.9); parts outside the frame count as background, so an
    /// object cut by the border is still framed;</item>
    /// <item>values: polarity x (v - background model), area-averaged into the output, negatives and a floor of
    /// <see cref="Floor"/> x T removed, then scaled so the brightest output value is 255 (Fashion-MNIST's
    /// images peak at 255).</item>
    /// </list>
    /// <see cref="Centre"/> skips the search and crops the centre of the frame (the background, polarity and
    /// contrast steps stay). Buffers are sized in the constructor, and the column sums on the first frame of a wider frame size; no other frame allocates.
    /// nanoFramework-safe: no generics, Span or Math.
    /// </summary>
    public sealed class ObjectFraming
    {
        /// <summary>Default grid side: cells of about 7 pixels on a 320x240 frame.</summary>
        public const int DefaultGridSize = 48;

        // The analysis reads every sample-th pixel, sample = max(1, longer side / 160): a row has fewer than 320 samples
        // (sample 1 below 320 pixels; from 320 up, at most longer side / sample < 160 (sample + 1) / sample + 1 <= 241).
        private const int MaxRowSamples = 320;

        private readonly int _outWidth, _outHeight;
        private readonly int _grid;
        private readonly int[] _cellSum;
        private readonly int[] _cellCount;
        private readonly int[] _label;
        private readonly int[] _stack;
        private readonly int[] _sampleSum = new int[MaxRowSamples];
        private float[] _colTotals = new float[0];
        private readonly float[] _rowAcc;
        private readonly int[] _colFirst, _colLast;
        private readonly float[] _colW0, _colW1, _colWidth, _colMean, _colSquare;
        private readonly float[] _cellDiff;
        private readonly float[] _gridX, _gridXX;
        private readonly int[] _cellSamples;
        private readonly ulong[] _pending;
        private readonly float[] _ringValue, _ringX, _ringY, _ringR, _ringWork;
        private readonly bool[] _ringKeep;
        private readonly float[] _normal = new float[20];
        private readonly float[] _coef = new float[4];
        private float _halfW, _halfH, _invHalfW, _invHalfH, _invR2;
        private float _left, _top, _right, _bottom;

        /// <summary>For an output of <paramref name="outputWidth"/> x <paramref name="outputHeight"/> values and a
        /// search grid of at most <paramref name="gridSize"/> cells a side (memory: 4 int arrays of gridSize² values).</summary>
        public ObjectFraming(int outputWidth, int outputHeight, int gridSize)
        {
            if (outputWidth < 1 || outputHeight < 1)
            {
                throw new ArgumentException("framing needs an output of at least 1x1, not " + outputWidth.ToString() + "x" + outputHeight.ToString());
            }
            if (gridSize < 4 || gridSize > 256) throw new ArgumentException("the framing grid must have 4 to 256 cells a side, not " + gridSize.ToString());
            _outWidth = outputWidth;
            _outHeight = outputHeight;
            _grid = gridSize;
            int cells = gridSize * gridSize;
            _cellSum = new int[cells];
            _cellCount = new int[cells];
            _label = new int[cells];
            _stack = new int[cells];
            _rowAcc = new float[outputWidth];
            _colFirst = new int[outputWidth];
            _colLast = new int[outputWidth];
            _colW0 = new float[outputWidth];
            _colW1 = new float[outputWidth];
            _colWidth = new float[outputWidth];
            _colMean = new float[outputWidth];
            _colSquare = new float[outputWidth];
            _cellDiff = new float[cells];
            _gridX = new float[gridSize];
            _gridXX = new float[gridSize];
            _cellSamples = new int[gridSize + 1];
            _pending = new ulong[gridSize];
            int ring = 4 * gridSize;
            _ringValue = new float[ring];
            _ringX = new float[ring];
            _ringY = new float[ring];
            _ringR = new float[ring];
            _ringWork = new float[ring];
            _ringKeep = new bool[ring];
        }

        /// <summary>With <see cref="DefaultGridSize"/>.</summary>
        public ObjectFraming(int outputWidth, int outputHeight)
            : this(outputWidth, outputHeight, DefaultGridSize)
        {
        }

        // ---- parameters (tuned on scenes rendered from Fashion-MNIST training images, see src/XnorEdge.Vision/framing.md)

        /// <summary>Crop the centre of the frame instead of searching for the object.</summary>
        public bool Centre;

        /// <summary>Crop side / the object box's longer side.</summary>
        public float Margin = 1.0f;

        /// <summary>Smallest difference from the background (gray levels) that counts as foreground.</summary>
        public float MinContrast = 16f;

        /// <summary>The foreground threshold in units of the border's spread.</summary>
        public float ThresholdSpreads = 4f;

        /// <summary>Cells this far apart (in cells, 8-neighbourhood radius) belong to one object.</summary>
        public int LinkCells = 2;

        /// <summary>The object must cover at least this many grid cells.</summary>
        public int MinObjectCells = 12;

        /// <summary>Output values below Floor x T (before stretching) become 0: the ground's texture and noise.</summary>
        public float Floor = 0.5f;

        /// <summary>The per-pixel loops (acc[k] += pixels[at + k x step], and the same weighted): null for this class's own (the
        /// reference), or a host's vectorised ones (they must give the same numbers, so the framing's results stay identical).</summary>
        public IRowAdder RowAdder;

        /// <summary>Place the box's edges inside their edge cells by how much of the cells the object covers (else whole cells).</summary>
        public bool RefineEdges;

        // ---- results of the last frame

        /// <summary>Whether the last frame showed an object.</summary>
        public bool Found;

        /// <summary>Background level (0..255) and spread of the last frame.</summary>
        public float Background;
        public float Spread;

        /// <summary>The foreground threshold used (gray levels).</summary>
        public float Threshold;

        /// <summary>+1: the object is brighter than the ground; -1: darker; 0: nothing stood out.</summary>
        public int Polarity;

        /// <summary>The object's bounding box in frame pixels (valid when <see cref="Found"/>).</summary>
        public int BoxX, BoxY, BoxWidth, BoxHeight;

        /// <summary>The cropped square (or output-aspect rectangle) in frame pixels; may reach outside the frame.</summary>
        public float CropX, CropY, CropWidth, CropHeight;

        /// <summary>Grid cells of the object.</summary>
        public int ObjectCells;

        /// <summary>The stretch applied (255 / brightest value).</summary>
        public float Gain;

        public int OutputWidth
        {
            get { return _outWidth; }
        }

        public int OutputHeight
        {
            get { return _outHeight; }
        }

        public int GridSize
        {
            get { return _grid; }
        }

        /// <summary>
        /// Frames one gray plane: pixel (x, y) is <paramref name="pixels"/>[offset + y * rowStride + x * pixelStep]
        /// (pixelStep 1 for GRAY8 and NV12's Y plane, 2 for YUYV). Writes OutputWidth x OutputHeight values
        /// (0..255, row by row) at <paramref name="destinationOffset"/>; all zero when no object was found.
        /// Returns <see cref="Found"/>.
        /// </summary>
        public bool Frame(byte[] pixels, int offset, int width, int height, int rowStride, int pixelStep, float[] destination, int destinationOffset)
        {
            if (pixels == null) throw new ArgumentNullException("pixels");
            if (destination == null) throw new ArgumentNullException("destination");
            if (width < 1 || height < 1 || pixelStep < 1 || rowStride < (width - 1) * pixelStep + 1)
            {
                throw new ArgumentException("framing: a " + width.ToString() + "x" + height.ToString() + " plane with row stride " + rowStride.ToString()
                    + " and pixel step " + pixelStep.ToString() + " is not a valid image");
            }
            if (offset < 0 || (long)offset + (long)(height - 1) * rowStride + (long)(width - 1) * pixelStep >= pixels.Length)
            {
                throw new ArgumentException("framing: a " + width.ToString() + "x" + height.ToString() + " plane does not fit in " + pixels.Length.ToString() + " bytes");
            }
            int outLength = _outWidth * _outHeight;
            if (destinationOffset < 0 || destinationOffset + outLength > destination.Length)
            {
                throw new ArgumentException("framing: the destination has no room for " + outLength.ToString() + " values");
            }

            int longSide = width > height ? width : height;
            int sample = longSide / 160; // analysis on every sample-th pixel: noise averages out in the cells anyway
            if (sample < 1) sample = 1;
            int cell = (longSide + _grid - 1) / _grid;
            if (cell < 1) cell = 1;
            int gw = (width + cell - 1) / cell, gh = (height + cell - 1) / cell;
            CellMeans(pixels, offset, width, height, rowStride, pixelStep, sample, cell, gw, gh);
            _halfW = width * 0.5f;
            _halfH = height * 0.5f;
            _invHalfW = 1f / _halfW;
            _invHalfH = 1f / _halfH;
            _invR2 = 1f / (_halfW * _halfW + _halfH * _halfH);
            FitBackground(cell, gw, gh, width, height);

            // (FitBackground also set the threshold and the polarity.)
            float t = Threshold;

            Found = false;
            ObjectCells = 0;
            if (Polarity != 0) FindObject(cell, gw, gh, width, height);
            if (!Found)
            {
                Clear(destination, destinationOffset, outLength);
                return false;
            }

            // The crop: output aspect, centred on the box (or the frame).
            float cx, cy, side;
            if (Centre)
            {
                cx = width * 0.5f;
                cy = height * 0.5f;
                side = (float)width * _outHeight < (float)height * _outWidth ? (float)width / _outWidth : (float)height / _outHeight;
            }
            else
            {
                cx = (_left + _right) * 0.5f;
                cy = (_top + _bottom) * 0.5f;
                float perX = (_right - _left) / _outWidth, perY = (_bottom - _top) / _outHeight;
                side = Margin * (perX > perY ? perX : perY);
            }
            if (side <= 0f) side = 1f / _outWidth;
            CropWidth = side * _outWidth;
            CropHeight = side * _outHeight;
            CropX = cx - CropWidth * 0.5f;
            CropY = cy - CropHeight * 0.5f;

            Resample(pixels, offset, width, height, rowStride, pixelStep, destination, destinationOffset, side);

            // Contrast: drop the ground's texture below the floor, stretch the brightest value to 255.
            float floor = Floor * t;
            float max = 0f;
            for (int i = 0; i < outLength; i++)
            {
                float v = destination[destinationOffset + i] - floor;
                if (v < 0f) v = 0f;
                destination[destinationOffset + i] = v;
                if (v > max) max = v;
            }
            if (max < 1f)
            {
                Found = false;
                Clear(destination, destinationOffset, outLength);
                return false;
            }
            Gain = 255f / max;
            for (int i = 0; i < outLength; i++)
            {
                float v = destination[destinationOffset + i] * Gain;
                destination[destinationOffset + i] = v > 255f ? 255f : v;
            }
            return true;
        }

        private static void Clear(float[] a, int offset, int count)
        {
            for (int i = 0; i < count; i++) a[offset + i] = 0f;
        }

        private float MeanOf(int cellIndex)
        {
            int n = _cellCount[cellIndex];
            return n == 0 ? 0f : (float)_cellSum[cellIndex] / n;
        }


        /// <summary>
        /// Fits the background b(x, y) = c0 + c1 X + c2 Y + c3 R (X, Y: -1..1 across the frame, R: squared distance from the
        /// centre, 1 in the corners: a tilt of the lighting and vignetting) to the cells of the grid's outer ring by least
        /// squares, twice: the second fit leaves out cells more than 3 spreads off the first (an object reaching the border).
        /// Sets every cell's difference from the model, <see cref="Background"/> (the model at the centre) and
        /// <see cref="Spread"/> (1.4826 x the median absolute residual of the kept ring cells), and from them
        /// <see cref="Threshold"/> and <see cref="Polarity"/>.
        /// </summary>
        private void FitBackground(int cell, int gw, int gh, int width, int height)
        {
            int n = 0;
            for (int gy = 0; gy < gh; gy++)
            {
                bool edgeRow = gy == 0 || gy == gh - 1;
                // The outer ring, row by row: whole first and last rows, the two end cells of the others.
                for (int gx = 0; gx < gw; gx = edgeRow || gx == gw - 1 ? gx + 1 : gw - 1)
                {
                    int i = gy * gw + gx;
                    if (_cellCount[i] == 0) continue;
                    int x1 = (gx + 1) * cell, y1 = (gy + 1) * cell;
                    if (x1 > width) x1 = width;
                    if (y1 > height) y1 = height;
                    float xc = (gx * cell + x1) * 0.5f - _halfW, yc = (gy * cell + y1) * 0.5f - _halfH;
                    _ringValue[n] = MeanOf(i);
                    _ringX[n] = xc * _invHalfW;
                    _ringY[n] = yc * _invHalfH;
                    _ringR[n] = (xc * xc + yc * yc) * _invR2;
                    _ringKeep[n] = true;
                    n++;
                }
            }
            // Start from the ring's median level (robust while an object covers less than half the ring), keep the cells
            // near it, fit, keep the cells near the fit, fit again.
            for (int i = 0; i < 4; i++) _coef[i] = 0f;
            _coef[0] = RingMedian(n, false);
            float spread = RingSpread(n);
            for (int pass = 0; pass < 2; pass++)
            {
                for (int k = 0; k < n; k++)
                {
                    float r = _ringValue[k] - RingModel(k);
                    if (r < 0f) r = -r;
                    _ringKeep[k] = r <= 3f * spread + 2f;
                }
                Solve(n);
                spread = RingSpread(n);
            }
            Spread = spread; // the last pass's: the same cells and coefficients
            Background = _coef[0];
            // The foreground threshold, and the polarity: the side (brighter or darker than the model) with more excess over
            // the threshold, summed in the same pass as the differences.
            float t = ThresholdSpreads * Spread;
            if (t < MinContrast) t = MinContrast;
            Threshold = t;
            float brighter = 0f, darker = 0f;
            // Every cell's difference from the background model at its centre, b(x, y) = c0 + c1 X + c2 Y + c3 R clipped to
            // 0..255 (a camera clips: so does the model), with the column terms computed once per column and the row terms
            // once per row.
            float c0 = _coef[0], c3 = _coef[3];
            for (int gx = 0; gx < gw; gx++)
            {
                int x1 = (gx + 1) * cell;
                if (x1 > width) x1 = width;
                float dx = (gx * cell + x1) * 0.5f - _halfW;
                _gridX[gx] = _coef[1] * dx * _invHalfW;
                _gridXX[gx] = dx * dx;
            }
            for (int gy = 0; gy < gh; gy++)
            {
                int y1 = (gy + 1) * cell;
                if (y1 > height) y1 = height;
                float dy = (gy * cell + y1) * 0.5f - _halfH;
                float rowTerm = _coef[2] * dy * _invHalfH, dyy = dy * dy;
                int i = gy * gw;
                for (int gx = 0; gx < gw; gx++, i++)
                {
                    float d = 0f;
                    if (_cellCount[i] != 0)
                    {
                        float v = c0 + _gridX[gx] + rowTerm + c3 * (_gridXX[gx] + dyy) * _invR2;
                        v = v < 0f ? 0f : v > 255f ? 255f : v;
                        d = MeanOf(i) - v;
                    }
                    _cellDiff[i] = d;
                    if (d > t) brighter += d - t;
                    else if (-d > t) darker += -d - t;
                }
            }
            Polarity = brighter > darker ? 1 : darker > brighter ? -1 : 0;
        }

        private float RingModel(int k)
        {
            return _coef[0] + _coef[1] * _ringX[k] + _coef[2] * _ringY[k] + _coef[3] * _ringR[k];
        }

        /// <summary>1.4826 x the median absolute residual of the kept ring cells.</summary>
        private float RingSpread(int n)
        {
            return 1.4826f * RingMedian(n, true);
        }

        /// <summary>The median of the kept ring cells' values, or of their absolute residuals from the model.</summary>
        private float RingMedian(int n, bool residuals)
        {
            int m = 0;
            for (int k = 0; k < n; k++)
            {
                if (!_ringKeep[k]) continue;
                float r = _ringValue[k];
                if (residuals)
                {
                    r -= RingModel(k);
                    if (r < 0f) r = -r;
                }
                _ringWork[m++] = r;
            }
            if (m == 0) return 0f;
            // Quickselect (linear on average; an insertion sort of the ~160 ring cells, five times a frame, cost a quarter
            // of the framing's time). The median is an order statistic, so the result does not depend on the method.
            int half = m / 2;
            float upper = SelectInPlace(m, half);
            if ((m & 1) == 1) return upper;
            // Every value left of position half is <= upper after the selection: the lower middle is their maximum.
            float lower = _ringWork[0];
            for (int i = 1; i < half; i++)
            {
                if (_ringWork[i] > lower) lower = _ringWork[i];
            }
            return 0.5f * (lower + upper);
        }

        /// <summary>The k-th smallest (from 0) of _ringWork[0 .. m-1], placed at position k with smaller-or-equal values before
        /// it. Each round splits the range around its middle element in two passes without a data-dependent branch (a
        /// camera's cell values come in no order the processor can predict: the branches of a classic partition missed
        /// about half the time, and the five selections a frame cost a sixth of the framing): values below the pivot to
        /// the front, then values equal to it (a black ground gives many equal cells) after them.</summary>
        private float SelectInPlace(int m, int k)
        {
            float[] a = _ringWork;
            int lo = 0, hi = m - 1;
            while (lo < hi)
            {
                float pivot = a[(lo + hi) >> 1];
                // [lo, less) < pivot <= [less, i): each value is swapped to the boundary and the boundary moves past it
                // when it is smaller.
                int less = lo;
                for (int i = lo; i <= hi; i++)
                {
                    float v = a[i];
                    a[i] = a[less];
                    a[less] = v;
                    less += v < pivot ? 1 : 0;
                }
                if (k < less)
                {
                    hi = less - 1;
                    continue;
                }
                int equal = less;
                for (int i = less; i <= hi; i++)
                {
                    float v = a[i];
                    a[i] = a[equal];
                    a[equal] = v;
                    equal += v <= pivot ? 1 : 0;
                }
                if (k < equal) return pivot;
                lo = equal;
            }
            return a[k];
        }

        /// <summary>Least squares of the kept ring cells for the 4 coefficients (normal equations, Gaussian elimination with
        /// partial pivoting); a coefficient that cannot be determined (too few cells) stays 0, and c0 falls back to the mean.</summary>
        private void Solve(int n)
        {
            float[] a = _normal; // 4 rows of 5: [A | b]
            int used = 0;
            float sum = 0f;
            // The sums of the symmetric A (basis 1, X, Y, R) and of b, in locals (A's two halves are the same products).
            float s01 = 0f, s02 = 0f, s03 = 0f, s11 = 0f, s12 = 0f, s13 = 0f, s22 = 0f, s23 = 0f, s33 = 0f;
            float t1 = 0f, t2 = 0f, t3 = 0f;
            for (int k = 0; k < n; k++)
            {
                if (!_ringKeep[k]) continue;
                used++;
                float b1 = _ringX[k], b2 = _ringY[k], b3 = _ringR[k], v = _ringValue[k];
                sum += v;
                s01 += b1;
                s02 += b2;
                s03 += b3;
                s11 += b1 * b1;
                s12 += b1 * b2;
                s13 += b1 * b3;
                s22 += b2 * b2;
                s23 += b2 * b3;
                s33 += b3 * b3;
                t1 += b1 * v;
                t2 += b2 * v;
                t3 += b3 * v;
            }
            SetRow(a, 0, used, s01, s02, s03, sum);
            SetRow(a, 1, s01, s11, s12, s13, t1);
            SetRow(a, 2, s02, s12, s22, s23, t2);
            SetRow(a, 3, s03, s13, s23, s33, t3);
            for (int i = 0; i < 4; i++) _coef[i] = 0f;
            if (used == 0) return;
            if (used < 8)
            {
                _coef[0] = sum / used;
                return;
            }
            for (int col = 0; col < 4; col++)
            {
                int pivot = col;
                for (int r = col + 1; r < 4; r++)
                {
                    if (Abs(a[r * 5 + col]) > Abs(a[pivot * 5 + col])) pivot = r;
                }
                if (Abs(a[pivot * 5 + col]) < 1e-6f * used)
                {
                    // Degenerate (e.g. a one-row frame): the mean alone.
                    for (int i = 0; i < 4; i++) _coef[i] = 0f;
                    _coef[0] = sum / used;
                    return;
                }
                if (pivot != col)
                {
                    for (int c = 0; c < 5; c++)
                    {
                        float tmp = a[col * 5 + c];
                        a[col * 5 + c] = a[pivot * 5 + c];
                        a[pivot * 5 + c] = tmp;
                    }
                }
                for (int r = col + 1; r < 4; r++)
                {
                    float f = a[r * 5 + col] / a[col * 5 + col];
                    for (int c = col; c < 5; c++) a[r * 5 + c] -= f * a[col * 5 + c];
                }
            }
            for (int r = 3; r >= 0; r--)
            {
                float v = a[r * 5 + 4];
                for (int c = r + 1; c < 4; c++) v -= a[r * 5 + c] * _coef[c];
                _coef[r] = v / a[r * 5 + r];
            }
        }

        private static void SetRow(float[] a, int row, float c0, float c1, float c2, float c3, float b)
        {
            int o = row * 5;
            a[o] = c0;
            a[o + 1] = c1;
            a[o + 2] = c2;
            a[o + 3] = c3;
            a[o + 4] = b;
        }

        private static float Abs(float v)
        {
            return v < 0f ? -v : v;
        }

        private void CellMeans(byte[] p, int offset, int width, int height, int stride, int step, int sample, int cell, int gw, int gh)
        {
            // The sampled rows of one grid row are first added column by column (one load and one add per sample), then
            // the column sums are summed cell by cell over each cell column's sample range: no division or branch per
            // sample (a division per cell and row was a third of the framing's time).
            int rowSamples = (width + sample - 1) / sample; // < 320: see the constructor
            int jump = step * sample;
            int[] acc = _sampleSum;
            // The samples of cell column gx: k from _cellSamples[gx] to _cellSamples[gx + 1] (x = k x sample in the cell;
            // a cell narrower than the sampling step may get none).
            for (int gx = 0; gx <= gw; gx++)
            {
                int x = gx * cell;
                if (x > width) x = width;
                _cellSamples[gx] = (x + sample - 1) / sample;
            }
            for (int gy = 0; gy < gh; gy++)
            {
                int y0 = gy * cell, y1 = y0 + cell;
                if (y1 > height) y1 = height;
                int firstRow = ((y0 + sample - 1) / sample) * sample;
                int rows = firstRow < y1 ? (y1 - firstRow + sample - 1) / sample : 0;
                if (rows == 0)
                {
                    // A grid row no sampled row falls in (cells smaller than the sampling step): no samples.
                    Array.Clear(_cellSum, gy * gw, gw);
                    Array.Clear(_cellCount, gy * gw, gw);
                    continue;
                }
                Array.Clear(acc, 0, rowSamples);
                AddRows(p, offset + firstRow * stride, sample * stride, rows, jump, rowSamples, acc);
                // Running sums over the row's samples: a cell's sum is the difference of two of them (integers: exact).
                int running = 0;
                for (int k = 0; k < rowSamples; k++)
                {
                    running += acc[k];
                    acc[k] = running;
                }
                int g = gy * gw, before = 0;
                for (int gx = 0; gx < gw; gx++, g++)
                {
                    int k0 = _cellSamples[gx], k1 = _cellSamples[gx + 1];
                    int upTo = k1 > 0 ? acc[k1 - 1] : 0;
                    _cellSum[g] = upTo - before;
                    _cellCount[g] = (k1 - k0) * rows;
                    before = upTo;
                }
            }
        }

        /// <summary>The largest connected group of foreground cells: sets Found, the box and ObjectCells.</summary>
        private void FindObject(int cell, int gw, int gh, int width, int height)
        {
            int cells = gw * gh;
            float t = Threshold;
            int pol = Polarity;
            int r = LinkCells < 1 ? 1 : LinkCells;
            // Foreground cells start unlabelled (-1). Grids up to 64 cells wide also keep each row's unlabelled foreground
            // cells as bits, so that a row of the neighbourhood with none of them costs one test instead of 2r + 1.
            bool bits = gw <= 64;
            for (int gy = 0, i = 0; gy < gh; gy++)
            {
                ulong m = 0;
                for (int gx = 0; gx < gw; gx++, i++)
                {
                    if (pol * _cellDiff[i] > t)
                    {
                        _label[i] = -1;
                        if (bits) m |= 1UL << gx;
                    }
                    else
                    {
                        _label[i] = 0;
                    }
                }
                if (bits) _pending[gy] = m;
            }
            int next = 0, bestCount = 0, bestLabel = 0, bx0 = 0, by0 = 0, bx1 = 0, by1 = 0;
            for (int seed = 0; seed < cells; seed++)
            {
                if (_label[seed] != -1) continue;
                next++;
                int top = 0, count = 0;
                int minX = gw, minY = gh, maxX = -1, maxY = -1;
                // The stack holds cells as (y << 8) | x (a grid has at most 256 cells a side): no division per cell.
                _stack[top++] = ((seed / gw) << 8) | (seed % gw);
                _label[seed] = next;
                if (bits) _pending[seed / gw] &= ~(1UL << (seed % gw));
                while (top > 0)
                {
                    int c = _stack[--top];
                    int x = c & 255, y = c >> 8;
                    count++;
                    if (x < minX) minX = x;
                    if (x > maxX) maxX = x;
                    if (y < minY) minY = y;
                    if (y > maxY) maxY = y;
                    int ya = y - r < 0 ? 0 : y - r, yb = y + r >= gh ? gh - 1 : y + r;
                    int xa = x - r < 0 ? 0 : x - r, xb = x + r >= gw ? gw - 1 : x + r;
                    ulong window = bits ? ((1UL << (xb - xa + 1)) - 1) << xa : 0;
                    for (int ny = ya; ny <= yb; ny++)
                    {
                        if (bits && (_pending[ny] & window) == 0) continue;
                        int line = ny * gw;
                        for (int nx = xa; nx <= xb; nx++)
                        {
                            int n = line + nx;
                            if (_label[n] == -1)
                            {
                                _label[n] = next;
                                _stack[top++] = (ny << 8) | nx;
                                if (bits) _pending[ny] &= ~(1UL << nx);
                            }
                        }
                    }
                }
                if (count > bestCount)
                {
                    bestCount = count;
                    bestLabel = next;
                    bx0 = minX;
                    by0 = minY;
                    bx1 = maxX;
                    by1 = maxY;
                }
            }
            ObjectCells = bestCount;
            if (bestCount < MinObjectCells) return;
            Found = true;
            float boxLeft = bx0 * cell, boxTop = by0 * cell, boxRight = (bx1 + 1) * cell, boxBottom = (by1 + 1) * cell;
            if (boxRight > width) boxRight = width;
            if (boxBottom > height) boxBottom = height;
            if (RefineEdges && bx1 > bx0 && by1 > by0)
            {
                // An edge cell is only partly covered: move each edge into its cells by the uncovered fraction,
                // estimated as 1 - (the edge's strongest cell / the object's strongest cell).
                float level = 0f;
                for (int y = by0; y <= by1; y++)
                {
                    for (int x = bx0; x <= bx1; x++)
                    {
                        int i = y * gw + x;
                        if (_label[i] == bestLabel && pol * _cellDiff[i] > level) level = pol * _cellDiff[i];
                    }
                }
                if (level > 0f)
                {
                    boxLeft += cell * (1f - EdgeCoverage(bx0, by0, 0, 1, by1 - by0 + 1, gw, bestLabel, pol, level));
                    boxRight -= cell * (1f - EdgeCoverage(bx1, by0, 0, 1, by1 - by0 + 1, gw, bestLabel, pol, level));
                    boxTop += cell * (1f - EdgeCoverage(bx0, by0, 1, 0, bx1 - bx0 + 1, gw, bestLabel, pol, level));
                    boxBottom -= cell * (1f - EdgeCoverage(bx0, by1, 1, 0, bx1 - bx0 + 1, gw, bestLabel, pol, level));
                    if (boxRight > width) boxRight = width;
                    if (boxBottom > height) boxBottom = height;
                }
            }
            _left = boxLeft;
            _top = boxTop;
            _right = boxRight;
            _bottom = boxBottom;
            BoxX = (int)boxLeft;
            BoxY = (int)boxTop;
            BoxWidth = (int)(boxRight + 0.5f) - BoxX;
            BoxHeight = (int)(boxBottom + 0.5f) - BoxY;
        }

        /// <summary>The strongest of <paramref name="count"/> object cells from (x, y) stepping (dx, dy), over <paramref name="level"/>, at most 1.</summary>
        private float EdgeCoverage(int x, int y, int dx, int dy, int count, int gw, int label, int pol, float level)
        {
            float best = 0f;
            for (int k = 0; k < count; k++, x += dx, y += dy)
            {
                int i = y * gw + x;
                if (_label[i] == label && pol * _cellDiff[i] > best) best = pol * _cellDiff[i];
            }
            float c = best / level;
            return c > 1f ? 1f : c;
        }

        /// <summary>
        /// Area-averages polarity x (v - background model) over the crop (CropX, CropY; side pixels per output value)
        /// into the output; pixels outside the frame count as background (0). The pixels are summed (whole pixels in
        /// integers, the two partly covered edge pixels weighted); the model, smooth, is averaged over the same area in
        /// closed form (the mean of a quadratic over an interval), so each pixel costs one load and one add.
        /// </summary>
        private void Resample(byte[] p, int offset, int width, int height, int stride, int step, float[] dst, int dstOffset, float side)
        {
            float pol = Polarity;
            float c0 = _coef[0], cx = _coef[1] * _invHalfW, cy = _coef[2] * _invHalfH, cr = _coef[3] * _invR2;
            float norm = pol / (side * side);
            // Per output column: the first and last source column, their weights, the covered x range.
            for (int i = 0; i < _outWidth; i++)
            {
                float xa = CropX + i * side, xb = xa + side;
                int rx0 = Floor0(xa), rx1 = Floor0(xb);
                if (xb == rx1) rx1--; // [xa, xb) ends exactly on a pixel boundary
                if (rx0 < 0) rx0 = 0;
                if (rx1 > width - 1) rx1 = width - 1;
                _colFirst[i] = rx0;
                _colLast[i] = rx1;
                _colW0[i] = rx0 <= rx1 ? Overlap(xa, xb, rx0) : 0f;
                _colW1[i] = rx1 > rx0 ? Overlap(xa, xb, rx1) : 0f;
                float lo = xa < 0f ? 0f : xa, hi = xb > width ? width : xb;
                _colWidth[i] = hi > lo ? hi - lo : 0f;
                float u = lo - _halfW, v = hi - _halfW;
                _colMean[i] = (u + v) * 0.5f;
                _colSquare[i] = (u * u + u * v + v * v) * (1f / 3f);
            }
            // The source columns the crop covers inside the frame (contiguous: each output column starts where the last ends).
            int xLo = width, xHi = -1;
            for (int i = 0; i < _outWidth; i++)
            {
                if (_colFirst[i] > _colLast[i]) continue;
                if (_colFirst[i] < xLo) xLo = _colFirst[i];
                if (_colLast[i] > xHi) xHi = _colLast[i];
            }
            int span = xHi - xLo + 1;
            if (_colTotals.Length < width)
            {
                // A crop spans at most the frame's width: the first frame of a wider frame size allocates, no frame after it.
                _colTotals = new float[width];
            }
            for (int j = 0; j < _outHeight; j++)
            {
                for (int i = 0; i < _outWidth; i++) _rowAcc[i] = 0f;
                float ya = CropY + j * side, yb = ya + side;
                int ry0 = Floor0(ya), ry1 = Floor0(yb);
                if (ry0 < 0) ry0 = 0;
                if (ry1 > height - 1) ry1 = height - 1;
                if (span > 0)
                {
                    // Rows wholly inside the output row are added column by column first (whole numbers below 2^24: exact in
                    // float), then the (at most two) partly covered rows with their weights; then the columns are split into
                    // output columns once. The adds are the loops a host can vectorise (RowAdder).
                    Array.Clear(_colTotals, 0, span);
                    int fullFrom = -1, fullRows = 0; // only the first and the last row can be partly covered
                    for (int ry = ry0; ry <= ry1; ry++)
                    {
                        if (Overlap(ya, yb, ry) < 1f) continue;
                        if (fullRows++ == 0) fullFrom = ry;
                    }
                    if (fullRows > 0) AddRows(p, offset + fullFrom * stride + xLo * step, stride, fullRows, step, span, _colTotals);
                    for (int ry = ry0; ry <= ry1; ry++)
                    {
                        float wy = Overlap(ya, yb, ry);
                        if (wy <= 0f || wy >= 1f) continue;
                        AddRowWeighted(p, offset + ry * stride + xLo * step, step, span, wy, _colTotals);
                    }
                    SplitColumns(_colTotals, xLo);
                }
                float lo = ya < 0f ? 0f : ya, hi = yb > height ? height : yb;
                float rowHeight = hi > lo ? hi - lo : 0f;
                float u = lo - _halfH, v = hi - _halfH;
                float rowMean = (u + v) * 0.5f, rowSquare = (u * u + u * v + v * v) * (1f / 3f);
                int o = dstOffset + j * _outWidth;
                for (int i = 0; i < _outWidth; i++)
                {
                    float area = rowHeight * _colWidth[i];
                    float b = c0 + cx * _colMean[i] + cy * rowMean + cr * (_colSquare[i] + rowSquare);
                    if (b > 255f) b = 255f;
                    else if (b < 0f) b = 0f;
                    dst[o + i] = (_rowAcc[i] - b * area) * norm;
                }
            }
        }

        /// <summary>Sets each output column's value in the output row: the column totals values[x - origin] over its source
        /// columns x, the two edge columns weighted by how much of them the column covers.</summary>
        private void SplitColumns(float[] values, int origin)
        {
            for (int i = 0; i < _outWidth; i++)
            {
                int rx0 = _colFirst[i], rx1 = _colLast[i];
                if (rx0 > rx1) continue;
                int first = rx0 - origin, end = rx1 - origin;
                float sum = _colW0[i] * values[first];
                if (rx1 > rx0)
                {
                    float whole = 0f;
                    for (int at = first + 1; at < end; at++) whole += values[at];
                    sum += whole + _colW1[i] * values[end];
                }
                _rowAcc[i] = sum;
            }
        }

        /// <summary>acc[k] += the sum over rows r &lt; rows of pixels[at + r x rowStride + k x step], in integers: the cell means'
        /// per-pixel loop (<see cref="RowAdder"/> when set).</summary>
        private void AddRows(byte[] pixels, int at, int rowStride, int rows, int step, int count, int[] acc)
        {
            if (RowAdder != null)
            {
                RowAdder.AddRows(pixels, at, rowStride, rows, step, count, acc);
                return;
            }
            for (int k = 0; k < count; k++, at += step) acc[k] += ColumnSum(pixels, at, rowStride, rows);
        }

        /// <summary>acc[k] += the sum over rows r &lt; rows of pixels[at + r x rowStride + k x step] (<see cref="RowAdder"/> when set).</summary>
        private void AddRows(byte[] pixels, int at, int rowStride, int rows, int step, int count, float[] acc)
        {
            if (RowAdder != null)
            {
                RowAdder.AddRows(pixels, at, rowStride, rows, step, count, acc);
                return;
            }
            for (int k = 0; k < count; k++, at += step) acc[k] += ColumnSum(pixels, at, rowStride, rows);
        }

        /// <summary>The sum of pixels[at + r x rowStride] over rows r &lt; rows, in integers: one value of the row sums (the
        /// reference the <see cref="IRowAdder"/> implementations' scalar tails use too).</summary>
        public static int ColumnSum(byte[] pixels, int at, int rowStride, int rows)
        {
            int sum = 0;
            for (int r = 0; r < rows; r++, at += rowStride) sum += pixels[at];
            return sum;
        }

        /// <summary>acc[k] += weight x pixels[at + k x step] for k &lt; count (<see cref="RowAdder"/> when set).</summary>
        private void AddRowWeighted(byte[] pixels, int at, int step, int count, float weight, float[] acc)
        {
            if (RowAdder != null)
            {
                RowAdder.AddRowWeighted(pixels, at, step, count, weight, acc);
                return;
            }
            for (int k = 0; k < count; k++, at += step) acc[k] += weight * pixels[at];
        }

        /// <summary>The length of [a, b) inside [k, k + 1).</summary>
        private static float Overlap(float a, float b, int k)
        {
            float lo = a > k ? a : k, hi = b < k + 1 ? b : k + 1;
            return hi > lo ? hi - lo : 0f;
        }

        /// <summary>floor(v) for the range frames use.</summary>
        private static int Floor0(float v)
        {
            int i = (int)v;
            return v < i ? i - 1 : i;
        }
    }
}
