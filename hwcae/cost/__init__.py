"""Hardware cost of a fixed-point design, walked from its typed integer model: MACs, gates, SRAM,
energy per spike, power per channel and channel capacity at a technology node."""
