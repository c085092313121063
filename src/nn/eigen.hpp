// Harmony nn — the one place Eigen is included (by kernels.cpp only, once per instruction set).
// Single-threaded by construction: the engine runs analyzers in parallel, so the inference layer
// must not start threads of its own.
#pragma once

#ifndef EIGEN_DONT_PARALLELIZE
#define EIGEN_DONT_PARALLELIZE
#endif
#include <Eigen/Core>
