"""The GRU as a one-step model the board steps through a window: building it from the trained network
(gru_step: one GRU time step, (x_t, h) -> (h', scores)) and running the int8 step model through whole
windows as the firmware does (stepping), and the converter's path for such a model (step_kind). "step" here always means one GRU time step."""
