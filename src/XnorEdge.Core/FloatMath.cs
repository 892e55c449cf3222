using System;

namespace XnorEdge
{
    /// <summary>The few real functions the operators need (nanoFramework's mscorlib has no System.Math).</summary>
    public static class FloatMath
    {
        private const double Ln2 = 0.69314718055994530942;
        private const double InvLn2 = 1.44269504088896340736;

        /// <summary>True unless <paramref name="v"/> is NaN or an infinity.</summary>
        public static bool IsFinite(float v)
        {
            return !float.IsNaN(v) && !float.IsInfinity(v);
        }

        /// <summary>A float for an error message: "NaN", "+infinity", "-infinity" or its value.</summary>
        public static string Describe(float v)
        {
            if (float.IsNaN(v)) return "NaN";
            if (float.IsPositiveInfinity(v)) return "+infinity";
            if (float.IsNegativeInfinity(v)) return "-infinity";
            return v.ToString();
        }

        /// <summary>e^x with a relative error below 1e-9 over the float range; 0 below -745, +inf above 709.</summary>
        public static double Exp(double x)
        {
            if (double.IsNaN(x)) return x;
            if (x < -745.0) return 0.0;
            if (x > 709.0) return double.PositiveInfinity;
            // x = k ln2 + r with |r| <= ln2 / 2; e^x = 2^k e^r.
            double t = x * InvLn2;
            int k = (int)(t >= 0 ? t + 0.5 : t - 0.5);
            double r = x - k * Ln2;
            double sum = 1.0;
            double term = 1.0;
            for (int i = 1; i <= 12; i++)
            {
                term *= r / i;
                sum += term;
            }
            // 2^k as a double built from its exponent bits (split to stay in the normal range).
            int k1 = k / 2;
            int k2 = k - k1;
            return sum * BitConverter.Int64BitsToDouble((long)(k1 + 1023) << 52) * BitConverter.Int64BitsToDouble((long)(k2 + 1023) << 52);
        }

        /// <summary>Rounds half away from zero to an int, saturating at the int range.</summary>
        public static int RoundToInt(double v)
        {
            if (double.IsNaN(v)) return 0;
            if (v >= 2147483647.0) return int.MaxValue;
            if (v <= -2147483648.0) return int.MinValue;
            return (int)(v >= 0 ? v + 0.5 : v - 0.5);
        }
    }
}
