"""Tests of the optimizers and schedules, mirroring minitorch_nn/optim/."""
