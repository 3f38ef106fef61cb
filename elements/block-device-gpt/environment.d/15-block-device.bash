# Which disk layout this element chooses (diskimage-builder's variable; the build reads it too).
export DIB_BLOCK_DEVICE=gpt
