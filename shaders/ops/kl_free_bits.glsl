// Free bits (Kingma et al. 2016), kl_gauss and kl_gauss_bwd's alpha > 0: a
// latent dimension whose KL, summed over the batch's valid rows, is under
// alpha nats a row counts alpha instead and passes no gradient.
// kl_cols sums four dimensions' columns at once, the rows 8 a pass
// unrolled: lavapipe's loop budget (kl_gauss walks latent/4 passes of
// rows/8: batch x latent to 524,000 and latent to 65,536 hold).
vec4 kl_cols(uint j0)
{
    uint rows = valid_rows();
    vec4 col = vec4(0.0);
    for (uint r0 = 0u; r0 < rows; r0 += 8u)
        [[unroll]] for (uint u = 0u; u < 8u; u++) {
            uint r = r0 + u;
            [[unroll]] for (uint c = 0u; c < 4u; c++) {
                uint j = j0 + c;
                if (r < rows && j < P_IN) {
                    float m = mu[r * P_IN + j], l = lv[r * P_IN + j];
                    col[c] += 0.5 * (m * m + exp(l) - 1.0 - l);
                }
            }
        }
    return col;
}

bool kl_col_free(float col) { return col < P_ALPHA * float(valid_rows()); }
