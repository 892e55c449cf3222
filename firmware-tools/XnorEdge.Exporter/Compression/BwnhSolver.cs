namespace XnorEdge.Exporter.Compression;

/// <summary>
/// The result of <see cref="BwnhSolver.Solve"/> for one layer: binary weights (+1/-1, [outputs][n] like the float
/// weights), one scale per output, and the objective ‖X(W − BΛ)‖²_F for plain sign(W)·mean|W| and for the solution.
/// </summary>
public sealed record BwnhResult(sbyte[] Signs, float[] Alpha, double NaiveObjective, double Objective, int Sweeps);

/// <summary>
/// Binary weights by inner-product-preserving hashing (BWNH, Hu, Wang and Cheng, AAAI 2018; brief §5), for one
/// layer: given calibration inputs X (m samples of the layer's n inputs: receptive fields of a conv, feature
/// vectors of a dense layer) and float weights W (n × outputs), minimise ‖XW − XBΛ‖²_F over B ∈ {±1}^{n×outputs}
/// and Λ = diag(α) (the paper's ‖XᵀW − XᵀBΛ‖ with X stored n × m).
/// <para>
/// With Λ diagonal the objective splits into one term per output j, (w − αb)ᵀ S (w − αb) with S = XᵀX. The solver
/// starts from b = sign(w) (sign(0) = +1) and alternates: α the least-squares optimum bᵀSw / bᵀSb, then one cyclic
/// sweep over the input dimensions i setting b_i to its closed-form best value given the others,
/// b_i = sign(α·((Sw)_i − α Σ_{k≠i} S_ik b_k)), until a sweep changes nothing or <c>maxSweeps</c>. Each step never
/// increases the objective, so the result is never worse than sign(W)·mean|W| (whose α is not even optimal for its B).
/// </para>
/// </summary>
public static class BwnhSolver
{
    /// <param name="weights">Float weights [outputs][n] (row-major, one row per output, the order the writer uses).</param>
    /// <param name="outputs">Number of outputs (rows of <paramref name="weights"/>).</param>
    /// <param name="inputs">Calibration inputs [m][n], m ≥ 1.</param>
    public static BwnhResult Solve(float[] weights, int outputs, float[] inputs, int maxSweeps = 50)
    {
        if (outputs <= 0 || weights.Length == 0 || weights.Length % outputs != 0)
            throw new ArgumentException($"{weights.Length} weights do not split into {outputs} outputs");
        int n = weights.Length / outputs;
        if (inputs.Length == 0 || inputs.Length % n != 0)
            throw new ArgumentException($"calibration inputs of {inputs.Length} values are not whole samples of {n} values");
        if (inputs.Any(v => !float.IsFinite(v)) || weights.Any(v => !float.IsFinite(v)))
            throw new ArgumentException("weights and calibration inputs must be finite");
        int m = inputs.Length / n;

        // S = XᵀX (n × n, symmetric), in double.
        var s = new double[n * n];
        var row = new double[n];
        for (int r = 0; r < m; r++)
        {
            for (int i = 0; i < n; i++) row[i] = inputs[r * n + i];
            for (int i = 0; i < n; i++)
            {
                double xi = row[i];
                if (xi == 0) continue;
                int at = i * n;
                for (int k = i; k < n; k++) s[at + k] += xi * row[k];
            }
        }
        for (int i = 0; i < n; i++)
            for (int k = i + 1; k < n; k++) s[k * n + i] = s[i * n + k];

        var signs = new sbyte[weights.Length];
        var alpha = new float[outputs];
        double naive = 0, final = 0;
        int maxUsed = 0;
        var w = new double[n];
        var t = new double[n];   // S w
        var u = new double[n];   // S b
        var b = new int[n];
        for (int j = 0; j < outputs; j++)
        {
            double meanAbs = 0;
            for (int i = 0; i < n; i++)
            {
                w[i] = weights[j * n + i];
                b[i] = w[i] >= 0 ? 1 : -1;
                meanAbs += Math.Abs(w[i]);
            }
            meanAbs /= n;
            MatVec(s, w, t, n);
            MatVecSigns(s, b, u, n);
            double wSw = Dot(w, t, n);
            naive += Objective(wSw, b, t, u, (float)meanAbs, n);   // the scale as a file would store it

            double a = 0;
            int sweeps = 0;
            while (true)
            {
                a = LeastSquaresAlpha(b, t, u, n);
                if (sweeps == maxSweeps) break;
                sweeps++;
                bool changed = false;
                for (int i = 0; i < n; i++)
                {
                    // u_i − S_ii b_i = Σ_{k≠i} S_ik b_k; the best b_i minimises −2α b_i t_i + 2α² b_i Σ_{k≠i} S_ik b_k.
                    double field = a * (t[i] - a * (u[i] - s[i * n + i] * b[i]));
                    int best = field > 0 ? 1 : field < 0 ? -1 : b[i];
                    if (best == b[i]) continue;
                    int delta = best - b[i];
                    for (int k = 0; k < n; k++) u[k] += s[k * n + i] * delta;
                    b[i] = best;
                    changed = true;
                }
                if (!changed) break;
            }
            maxUsed = Math.Max(maxUsed, sweeps);
            alpha[j] = (float)a;
            for (int i = 0; i < n; i++) signs[j * n + i] = (sbyte)b[i];
            // The objective with the α as stored (float) and the final signs.
            MatVecSigns(s, b, u, n);
            final += Objective(wSw, b, t, u, alpha[j], n);
        }
        return new BwnhResult(signs, alpha, naive, final, maxUsed);
    }

    /// <summary>‖X(W − BΛ)‖²_F for given signs [outputs][n] and scales, directly from the samples (for tests and reports).</summary>
    public static double ObjectiveOf(float[] weights, int outputs, float[] inputs, sbyte[] signs, float[] alpha)
    {
        int n = weights.Length / outputs, m = inputs.Length / n;
        double sum = 0;
        for (int r = 0; r < m; r++)
            for (int j = 0; j < outputs; j++)
            {
                double d = 0;
                for (int i = 0; i < n; i++) d += inputs[r * n + i] * ((double)weights[j * n + i] - (double)alpha[j] * signs[j * n + i]);
                sum += d * d;
            }
        return sum;
    }

    private static double LeastSquaresAlpha(int[] b, double[] t, double[] u, int n)
    {
        double bSw = 0, bSb = 0;
        for (int i = 0; i < n; i++)
        {
            bSw += b[i] * t[i];
            bSb += b[i] * u[i];
        }
        return bSb > 0 ? bSw / bSb : 0;
    }

    /// <summary>(w − αb)ᵀS(w − αb) = wSw − 2α bᵀSw + α² bᵀSb.</summary>
    private static double Objective(double wSw, int[] b, double[] t, double[] u, double a, int n)
    {
        double bSw = 0, bSb = 0;
        for (int i = 0; i < n; i++)
        {
            bSw += b[i] * t[i];
            bSb += b[i] * u[i];
        }
        return Math.Max(0, wSw - 2 * a * bSw + a * a * bSb);
    }

    private static void MatVec(double[] s, double[] v, double[] o, int n)
    {
        for (int i = 0; i < n; i++)
        {
            double acc = 0;
            for (int k = 0; k < n; k++) acc += s[i * n + k] * v[k];
            o[i] = acc;
        }
    }

    private static void MatVecSigns(double[] s, int[] v, double[] o, int n)
    {
        for (int i = 0; i < n; i++)
        {
            double acc = 0;
            for (int k = 0; k < n; k++) acc += s[i * n + k] * v[k];
            o[i] = acc;
        }
    }

    private static double Dot(double[] a, double[] b, int n)
    {
        double acc = 0;
        for (int i = 0; i < n; i++) acc += a[i] * b[i];
        return acc;
    }
}
