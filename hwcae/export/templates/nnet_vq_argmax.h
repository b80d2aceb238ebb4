// hwcae: nearest-codeword search, last step. Plain C++ (no ap_/ac_ types used directly), so the
// same header serves the Vitis and Catapult backends of hls4ml.
//
// Input: scores[n_pos * n_code], channels-last, score = e_k . z - ||e_k||^2 / 2 (computed by the
// preceding 1x1 convolution whose weights are the quantised codebook). Output: per position the
// index of the largest score. A strict '>' keeps the lowest index on ties, as torch.argmax does.
#ifndef NNET_VQ_ARGMAX_H_
#define NNET_VQ_ARGMAX_H_

namespace nnet {

struct vq_argmax_config {
    static const unsigned n_pos = 16;
    static const unsigned n_code = 128;
};

template <class data_T, class res_T, typename CONFIG_T>
void vq_argmax(data_T scores[CONFIG_T::n_pos * CONFIG_T::n_code], res_T index[CONFIG_T::n_pos]) {
    for (unsigned p = 0; p < CONFIG_T::n_pos; p++) {
        data_T best = scores[p * CONFIG_T::n_code];
        unsigned best_k = 0;
        for (unsigned k = 1; k < CONFIG_T::n_code; k++) {
            const data_T s = scores[p * CONFIG_T::n_code + k];
            if (s > best) {
                best = s;
                best_k = k;
            }
        }
        index[p] = best_k;
    }
}

} // namespace nnet

#endif
