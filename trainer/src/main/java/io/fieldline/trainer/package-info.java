/**
 * Training field networks with DJL on the PyTorch engine (PFGM and PFGM++ objectives), datasets, EMA, checkpoints and ONNX export. Arrives with issue #3; depends on core and model-server only.
 */
package io.fieldline.trainer;
