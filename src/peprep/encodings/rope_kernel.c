/* RoPE in place in one pass over memory: peprep's compiled kernel (loaded by rope_native.py).
 *
 * Why C: for bfloat16, torch has no complex type and every torch op is a separate pass, so
 * the blocked torch path needs three (widen, multiply, round). Here each pair is loaded, widened,
 * rotated in float32 and rounded in registers, so q and k are read once and written once whatever the
 * dtype — what fused kernels in inference engines do.
 *
 * Same numbers as the readable reference `rope.apply_rotary` (x·cos + rotate(x)·sin in float32, then
 * one rounding to x's dtype), bit for bit: built with -ffp-contract=off, so a·c − b·s is two products
 * and a difference, not a fused multiply-add, and the rounding to bfloat16 is round-to-nearest-even
 * with NaN kept quiet, as torch rounds.
 *
 * A call rotates rows [row_begin, row_end) of x, row = b·H + h, at positions [t_begin, t_end); x has
 * element strides (sb, sh, st) and channel stride 1. The table is (T, R/2) float32 cos and sin, or one
 * per sequence (B, T, R/2) with table_sb = T·R/2 (0 when shared). Pair j is channels (2j, 2j+1) when
 * interleaved, (j, j + R/2) for the half layout; channels from R on are not touched.
 *
 * float16 is left to the torch path: GCC 12 vectorizes _Float16 loads only on CPUs with AVX512-FP16,
 * and a scalar loop would be slower than torch's blocked ops.
 */
#include <stdint.h>
#include <string.h>

static inline float bf16_to_float(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16; /* bfloat16 is the top half of a float32 */
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static inline uint16_t float_to_bf16(float f) {
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return 0x7fc0; /* NaN: torch's quiet NaN */
    bits += 0x7fffu + ((bits >> 16) & 1u);                  /* round to nearest, ties to even */
    return (uint16_t)(bits >> 16);
}

#define LOAD_F32(p) (*(p))
#define STORE_F32(p, v) (*(p) = (v))
#define LOAD_BF16(p) bf16_to_float(*(p))
#define STORE_BF16(p, v) (*(p) = float_to_bf16(v))

/* The loops every kernel shares: rows (b, h) of the call, positions t inside a row. The body (the
 * variadic argument, as it holds commas) rotates the R/2 pairs of one position: v points at
 * x[b, h, t, 0], c and s at the table's row for (b, t). rope_fast.py cuts calls into tiles of a few
 * rows × a few dozen positions, so the table rows a call reads stay in L1 for all its rows. */
#define FOR_EACH_POSITION(ELEM, ...)                                                                 \
    for (int64_t row = row_begin; row < row_end; row++) {                                            \
        int64_t b = row / heads, h = row % heads;                                                    \
        for (int64_t t = t_begin; t < t_end; t++) {                                                  \
            ELEM *v = x + b * sb + h * sh + t * st;                                                  \
            const float *c = cos + b * table_sb + t * half, *s = sin + b * table_sb + t * half;      \
            __VA_ARGS__                                                                              \
        }                                                                                            \
    }

#define KERNEL_ARGS(ELEM)                                                                            \
    ELEM *x, int64_t heads, int64_t sb, int64_t sh, int64_t st, const float *restrict cos,          \
        const float *restrict sin, int64_t table_sb, int64_t half, int64_t row_begin, int64_t row_end, \
        int64_t t_begin, int64_t t_end

/* One exported function per (layout, dtype). A = index of a pair's first channel, B = its second. */
#define DEFINE_ROPE(NAME, ELEM, LOAD, STORE, A, B)                                                   \
    void NAME(KERNEL_ARGS(ELEM)) {                                                                   \
        FOR_EACH_POSITION(ELEM, for (int64_t j = 0; j < half; j++) {                                 \
            float a = LOAD(v + (A)), bb = LOAD(v + (B));                                             \
            float ra = a * c[j] - bb * s[j], rb = bb * c[j] + a * s[j];                              \
            STORE(v + (A), ra);                                                                      \
            STORE(v + (B), rb);                                                                      \
        })                                                                                           \
    }

DEFINE_ROPE(rope_interleaved_float32, float, LOAD_F32, STORE_F32, 2 * j, 2 * j + 1)
DEFINE_ROPE(rope_half_float32, float, LOAD_F32, STORE_F32, j, j + half)
DEFINE_ROPE(rope_half_bfloat16, uint16_t, LOAD_BF16, STORE_BF16, j, j + half)

/* Interleaved bfloat16: a pair (x_2j, x_2j+1) is one 32-bit word, x_2j in its low half (little endian;
 * rope_native.py refuses big-endian machines). Widening is then a shift and a mask, and every step is
 * a 32-bit lane operation, which the compiler vectorizes fully; DEFINE_ROPE's strided 16-bit loads ran
 * 1.1-1.5x slower here. The word type allows 2-byte alignment and aliasing with x's 16-bit elements. */
typedef uint32_t __attribute__((aligned(2), may_alias)) bf16_pair;

static inline float bits_to_float(uint32_t bits) {
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

void rope_interleaved_bfloat16(KERNEL_ARGS(uint16_t)) {
    FOR_EACH_POSITION(uint16_t, {
        bf16_pair *w = (bf16_pair *)v;
        for (int64_t j = 0; j < half; j++) {
            uint32_t word = w[j];
            float a = bits_to_float(word << 16), bb = bits_to_float(word & 0xffff0000u);
            float ra = a * c[j] - bb * s[j], rb = bb * c[j] + a * s[j];
            w[j] = ((uint32_t)float_to_bf16(rb) << 16) | float_to_bf16(ra);
        }
    })
}
