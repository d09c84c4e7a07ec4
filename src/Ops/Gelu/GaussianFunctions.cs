namespace DeformEngine.Kernels;

/// <summary>The error function and the standard normal distribution in double, to about 1e-15 relative
/// (.NET has no Math.Erf): erf by the series 2/√π·e^(−x²)·Σ 2ⁿx^(2n+1)/(1·3·…·(2n+1)) (all terms positive,
/// no cancellation) below 2, erfc by its continued fraction e^(−x²)/√π / (x + (1/2)/(x + 1/(x + (3/2)/(x + …))))
/// from 2 on, e^(−x²) split so that the rounding of x² does not grow with x.</summary>
internal static class GaussianFunctions
{
    private const double TwoOverSqrtPi = 1.1283791670955125739;
    private const double OneOverSqrtPi = 0.56418958354775628695;
    private const double OneOverSqrtTwo = 0.70710678118654752440;
    private const double OneOverSqrtTwoPi = 0.39894228040143267794;
    private const double SeriesLimit = 2.0;

    /// <summary>erf(x).</summary>
    public static double Erf(double x)
    {
        if (double.IsNaN(x)) return x;
        double a = Math.Abs(x);
        double value = a < SeriesLimit ? ErfSeries(a) : 1 - ErfcFraction(a);
        return x < 0 ? -value : value;
    }

    /// <summary>erfc(x) = 1 − erf(x), without the cancellation for large x.</summary>
    public static double Erfc(double x)
    {
        if (double.IsNaN(x)) return x;
        if (x >= SeriesLimit) return ErfcFraction(x);
        if (x <= -SeriesLimit) return 2 - ErfcFraction(-x);
        return 1 - (x < 0 ? -ErfSeries(-x) : ErfSeries(x));
    }

    /// <summary>Φ(x) = P(Z ≤ x) = erfc(−x/√2)/2.</summary>
    public static double NormalCdf(double x) => 0.5 * Erfc(-x * OneOverSqrtTwo);

    /// <summary>φ(x) = e^(−x²/2)/√(2π).</summary>
    public static double NormalPdf(double x) => OneOverSqrtTwoPi * Math.Exp(-0.5 * x * x);

    private static double ErfSeries(double x)
    {
        if (x == 0) return 0;
        double x2 = x * x, term = x, sum = x;
        for (int n = 1; term > 1e-17 * sum; n++)
        {
            term *= 2 * x2 / (2 * n + 1);
            sum += term;
        }
        return TwoOverSqrtPi * Math.Exp(-x2) * sum;
    }

    /// <summary>erfc(x) for x ≥ 2 by the modified Lentz evaluation of the continued fraction.</summary>
    private static double ErfcFraction(double x)
    {
        if (double.IsPositiveInfinity(x)) return 0;
        // NOTE: beyond 27 erfc(x) underflows double; the fraction would still converge but e^(−x²) is 0.
        if (x > 27) return 0;
        double f = x, c = x, d = 0;
        for (int k = 1; k < 200; k++)
        {
            double a = 0.5 * k;
            d = 1 / (x + a * d);
            c = x + a / c;
            double delta = c * d;
            f *= delta;
            if (Math.Abs(delta - 1) < 1e-16) break;
        }
        // e^(−x²) = e^(−h²)·e^(−(x − h)(x + h)) with h = x rounded down to 1/16: h² is exact.
        double h = Math.Floor(x * 16) / 16;
        return Math.Exp(-h * h) * Math.Exp(-(x - h) * (x + h)) * OneOverSqrtPi / f;
    }
}
