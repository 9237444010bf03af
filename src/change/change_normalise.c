/* Robust relative radiometric normalisation between two dates, and the
 * per-pixel median that builds the baseline. */
#include "change.h"

#include <math.h>
#include <stdlib.h>

enum {
    MIN_SAMPLES = 100,
    /* Theil-Sen start: this many evenly spaced samples, so its pairwise
     * slopes (about 32 000) cost the same for any n. */
    START_SAMPLES = 256,
    /* Trimmed refits usually settle in 3-5; the cap bounds the worst case. */
    MAX_REFITS = 10,
    /* Balance: the x range is cut into this many equal bins, and no bin
     * gives more than BIN_CAP samples to the fit. */
    BINS = 8,
    BIN_CAP = 2000
};

static const double CUT_SIGMAS = 3.0;
static const double MAD_TO_SIGMA = 1.4826; /* MAD of a normal = 0.6745 sigma */
/* Reflectance: keeps the cut open when most residuals are exactly 0
 * (identical pixels), where the MAD would be 0. */
static const double SIGMA_FLOOR = 1e-6;
/* Reflectance: sample pairs closer in x than this give no Theil-Sen slope. */
static const double MIN_DX = 1e-6;

static bool valid_pair(float x, float y)
{
    return isfinite(x) && isfinite(y);
}

static void swap_float(float *a, float *b)
{
    const float t = *a;
    *a = *b;
    *b = t;
}

static float median_of_three(float a, float b, float c)
{
    if (a > b)
        swap_float(&a, &b);
    if (b > c)
        swap_float(&b, &c);
    return a > b ? a : b;
}

/* The k-th smallest of a[0..n-1] (0-based); reorders a. Quickselect with
 * a median-of-three pivot: O(n) on average and deterministic. */
static float select_kth(float *a, size_t n, size_t k)
{
    ptrdiff_t lo = 0, hi = (ptrdiff_t)n - 1;
    const ptrdiff_t kk = (ptrdiff_t)k;
    while (lo < hi) {
        const float pivot =
            median_of_three(a[lo], a[lo + (hi - lo) / 2], a[hi]);
        ptrdiff_t i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot)
                i++;
            while (a[j] > pivot)
                j--;
            if (i <= j) {
                swap_float(&a[i], &a[j]);
                i++;
                j--;
            }
        }
        /* Now a[lo..j] <= pivot <= a[i..hi], and a[j+1..i-1] == pivot. */
        if (kk <= j)
            hi = j;
        else if (kk >= i)
            lo = i;
        else
            break;
    }
    return a[k];
}

static float lower_median(float *a, size_t n)
{
    return select_kth(a, n, (n - 1) / 2);
}

/* Theil-Sen gain: the median slope between every two of up to
 * START_SAMPLES valid pairs spread evenly over the input, counting only
 * two that lie at least a quarter of their x range apart when there are
 * MIN_SAMPLES such. Within one cover (forest, say) x and y differ by
 * noise and illumination, which flattens their slopes (errors in x): when
 * that cover fills most of the samples, their median fixed the line on it
 * alone, and water at the dark end fell 0.05 off it, outside the trim.
 * slopes holds at least START_SAMPLES * (START_SAMPLES - 1) / 2 floats. */
static rw_status start_gain(const float *x, const float *y, size_t n,
                            size_t valid, float *slopes, double *gain,
                            rw_error *err)
{
    rw_status st = RW_OK;
    float px[START_SAMPLES], py[START_SAMPLES];
    const size_t want = valid < START_SAMPLES ? valid : START_SAMPLES;
    size_t taken = 0, seen = 0;
    for (size_t i = 0; i < n && taken < want; i++) {
        if (!valid_pair(x[i], y[i]))
            continue;
        /* Take the seen-th valid pair when it is the taken-th of want
         * evenly spaced picks. */
        if (seen == taken * valid / want) {
            px[taken] = x[i];
            py[taken] = y[i];
            taken++;
        }
        seen++;
    }
    double lo = HUGE_VAL, hi = -HUGE_VAL;
    for (size_t i = 0; i < taken; i++) {
        lo = fmin(lo, px[i]);
        hi = fmax(hi, px[i]);
    }
    size_t count = 0;
    for (int pass = 0; pass < 2 && count < MIN_SAMPLES; pass++) {
        const double apart = pass == 0 ? fmax(MIN_DX, (hi - lo) / 4.0) : MIN_DX;
        count = 0;
        for (size_t i = 0; i < taken; i++) {
            for (size_t j = i + 1; j < taken; j++) {
                const double dx = (double)px[j] - (double)px[i];
                if (fabs(dx) > apart)
                    slopes[count++] = (float)(((double)py[j] - (double)py[i]) / dx);
            }
        }
    }
    RW_FAIL_IF(count == 0, err, RW_ERR_INPUT,
               "cannot normalise: the earlier band is constant");
    *gain = lower_median(slopes, count);
done:
    return st;
}

/* Least squares over the pairs whose residual from (gain, offset) lies
 * within cut of center; replaces gain and offset and sets *used. */
static rw_status refit(const float *x, const float *y, size_t n, double center,
                       double cut, double *gain, double *offset, size_t *used,
                       rw_error *err)
{
    rw_status st = RW_OK;
    const double g = *gain, o = *offset;
    double sx = 0.0, sy = 0.0;
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (!valid_pair(x[i], y[i]) ||
            !(fabs((double)y[i] - (g * x[i] + o) - center) <= cut))
            continue;
        sx += x[i];
        sy += y[i];
        kept++;
    }
    RW_FAIL_IF(kept < MIN_SAMPLES, err, RW_ERR_INPUT,
               "cannot normalise: only %zu samples agree on a fit (need %d)",
               kept, MIN_SAMPLES);
    /* Centred sums in a second pass: no cancellation in sxx - sx*sx/n. */
    const double mx = sx / (double)kept, my = sy / (double)kept;
    double sxx = 0.0, sxy = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (!valid_pair(x[i], y[i]) ||
            !(fabs((double)y[i] - (g * x[i] + o) - center) <= cut))
            continue;
        sxx += (x[i] - mx) * (x[i] - mx);
        sxy += (x[i] - mx) * (y[i] - my);
    }
    RW_FAIL_IF(!(sxx > 0.0), err, RW_ERR_INPUT,
               "cannot normalise: the earlier band is constant");
    *gain = sxy / sxx;
    *offset = my - *gain * mx;
    *used = kept;
done:
    return st;
}

/* The bin of x in BINS equal bins over [lo, hi] (clamped). */
static int bin_of(float x, float lo, float hi)
{
    const int b = (int)((x - lo) / (hi - lo) * BINS);
    return b < 0 ? 0 : (b >= BINS ? BINS - 1 : b);
}

/* Copies into bx, by a sample of the valid pairs balanced over the range
 * of x (0.1 to 99.9 percentile): each of BINS equal bins gives all its
 * pairs up to BIN_CAP, evenly spaced in input order. One cover that fills
 * most of a scene (forest) would otherwise fix the line by its own spread
 * alone, and water at the dark end could end up far off it. */
static rw_status balance(const float *x, const float *y, size_t n,
                         size_t valid, float *bx, float *by, size_t *out,
                         rw_error *err)
{
    rw_status st = RW_OK;
    float *v = rw_malloc(valid * sizeof(*v), err);
    RW_FAIL_IF(v == NULL, err, RW_ERR_NOMEM, "out of memory");
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (valid_pair(x[i], y[i]))
            v[m++] = x[i];
    const float lo = select_kth(v, m, m / 1000);
    const float hi = select_kth(v, m, m - 1 - m / 1000);
    free(v);
    size_t count[BINS] = {0}, seen[BINS] = {0}, taken[BINS] = {0};
    if (!(hi > lo)) {
        for (size_t i = 0; i < n; i++)
            if (valid_pair(x[i], y[i]))
                bx[*out] = x[i], by[(*out)++] = y[i];
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        if (valid_pair(x[i], y[i]))
            count[bin_of(x[i], lo, hi)]++;
    *out = 0;
    for (size_t i = 0; i < n; i++) {
        if (!valid_pair(x[i], y[i]))
            continue;
        const int b = bin_of(x[i], lo, hi);
        const size_t want = count[b] < BIN_CAP ? count[b] : BIN_CAP;
        if (taken[b] < want && seen[b] == taken[b] * count[b] / want) {
            bx[*out] = x[i];
            by[(*out)++] = y[i];
            taken[b]++;
        }
        seen[b]++;
    }
done:
    return st;
}

rw_status rw_change_normalise_fit(const float *x_in, const float *y_in,
                                  size_t n_in, rw_change_fit *fit,
                                  rw_error *err)
{
    rw_status st = RW_OK;
    float *scratch = NULL, *x = NULL, *y = NULL;
    size_t valid = 0, n = 0;
    for (size_t i = 0; i < n_in; i++)
        valid += valid_pair(x_in[i], y_in[i]);
    RW_FAIL_IF(valid < MIN_SAMPLES, err, RW_ERR_INPUT,
               "cannot normalise: only %zu valid sample pairs (need %d)",
               valid, MIN_SAMPLES);
    x = rw_malloc(valid * sizeof(*x), err);
    y = rw_malloc(valid * sizeof(*y), err);
    RW_FAIL_IF(x == NULL || y == NULL, err, RW_ERR_NOMEM, "out of memory");
    RW_CHECK(balance(x_in, y_in, n_in, valid, x, y, &n, err));
    valid = n;
    const size_t slope_count = START_SAMPLES * (START_SAMPLES - 1) / 2;
    scratch = rw_malloc((valid > slope_count ? valid : slope_count) *
                            sizeof(*scratch),
                        err);
    RW_FAIL_IF(scratch == NULL, err, RW_ERR_NOMEM, "out of memory");

    double gain = 0.0;
    RW_CHECK(start_gain(x, y, n, valid, scratch, &gain, err));
    double offset = 0.0;
    size_t used = 0;
    for (int pass = 0; pass <= MAX_REFITS; pass++) {
        /* Residuals of the current line; the first pass only places the
         * Theil-Sen line (offset 0) at the median residual. */
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (valid_pair(x[i], y[i]))
                scratch[m++] = (float)((double)y[i] - (gain * x[i] + offset));
        const double center = lower_median(scratch, m);
        if (pass == 0) {
            offset = center;
            continue;
        }
        for (size_t i = 0; i < m; i++)
            scratch[i] = fabsf(scratch[i] - (float)center);
        double sigma = MAD_TO_SIGMA * lower_median(scratch, m);
        if (sigma < SIGMA_FLOOR)
            sigma = SIGMA_FLOOR;
        const double old_gain = gain, old_offset = offset;
        const size_t old_used = used;
        RW_CHECK(refit(x, y, n, center, CUT_SIGMAS * sigma, &gain, &offset,
                       &used, err));
        if (used == old_used && gain == old_gain && offset == old_offset)
            break;
    }
    fit->gain = gain;
    fit->offset = offset;
    fit->used = used;
done:
    free(scratch);
    free(x);
    free(y);
    return st;
}

void rw_change_normalise_apply(const rw_change_fit *fit, float *band, size_t n)
{
    const float gain = (float)fit->gain, offset = (float)fit->offset;
#pragma omp simd
    for (size_t i = 0; i < n; i++)
        band[i] = gain * band[i] + offset;
}

float rw_change_median(const float *v, int n)
{
    if (n < 0 || n > RW_CHANGE_MEDIAN_MAX)
        return NAN;
    float sorted[RW_CHANGE_MEDIAN_MAX];
    int count = 0;
    for (int i = 0; i < n; i++) {
        if (isnan(v[i]))
            continue;
        int j = count++;
        for (; j > 0 && sorted[j - 1] > v[i]; j--)
            sorted[j] = sorted[j - 1];
        sorted[j] = v[i];
    }
    if (count == 0)
        return NAN;
    if (count % 2 == 1)
        return sorted[count / 2];
    return 0.5f * (sorted[count / 2 - 1] + sorted[count / 2]);
}
