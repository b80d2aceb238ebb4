// hwcae: grouped 1-D convolution, 'same' padding, stride 1, channels last. Plain C++ over the
// backend's fixed-point types (ap_fixed or ac_fixed through the config's typedefs), so the same
// header serves the Vitis and Catapult backends of hls4ml.
//
// data[in_width * n_chan], res[in_width * n_filt]. Output channel f belongs to group
// f / (n_filt / n_group) and reads only that group's n_chan / n_group input channels.
// weights[(f * (n_chan / n_group) + c) * filt_width + j] (torch's grouped layout, flattened);
// biases[f]. The accumulator is exact (sized by hwcae for the worst case); the result is the
// accumulator, requantised by the activation layer that follows.
// Schedule: one output value per pipelined iteration (its taps x group inputs unrolled), so the
// multipliers are those of one group, not of the whole layer.
#ifndef NNET_GROUPED_CONV1D_H_
#define NNET_GROUPED_CONV1D_H_

namespace nnet {

struct grouped_conv1d_config {
    static const unsigned in_width = 64;
    static const unsigned n_chan = 256;
    static const unsigned n_filt = 128;
    static const unsigned n_group = 32;
    static const unsigned filt_width = 1;
    static const unsigned pad_left = 0;
};

template <class data_T, class res_T, typename CONFIG_T>
void grouped_conv_1d(data_T data[CONFIG_T::in_width * CONFIG_T::n_chan], res_T res[CONFIG_T::in_width * CONFIG_T::n_filt],
                     typename CONFIG_T::weight_t weights[CONFIG_T::n_filt * (CONFIG_T::n_chan / CONFIG_T::n_group) * CONFIG_T::filt_width],
                     typename CONFIG_T::bias_t biases[CONFIG_T::n_filt]) {
    const unsigned cin_g = CONFIG_T::n_chan / CONFIG_T::n_group;
    const unsigned cout_g = CONFIG_T::n_filt / CONFIG_T::n_group;
Positions:
    for (unsigned p = 0; p < CONFIG_T::in_width; p++) {
    Filters:
        for (unsigned f = 0; f < CONFIG_T::n_filt; f++) {
            #pragma HLS PIPELINE II=1
            const unsigned c0 = (f / cout_g) * cin_g;
            typename CONFIG_T::accum_t acc = biases[f];
        Taps:
            for (unsigned j = 0; j < CONFIG_T::filt_width; j++) {
                const int q = int(p + j) - int(CONFIG_T::pad_left);
                if (q < 0 || q >= int(CONFIG_T::in_width))
                    continue;
            Inputs:
                for (unsigned c = 0; c < cin_g; c++) {
                    acc += data[q * CONFIG_T::n_chan + c0 + c] * weights[(f * cin_g + c) * CONFIG_T::filt_width + j];
                }
            }
            res[p * CONFIG_T::n_filt + f] = acc;
        }
    }
}

} // namespace nnet

#endif
