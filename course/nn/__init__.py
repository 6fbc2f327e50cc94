"""Neural-network building blocks for video and volumes, written from scratch to be read.

Submodules (one idea per file): conv3d (3D convolution by unfold/einsum), fusion (single-frame,
late, early, slow fusion and small C3D-style baselines), factorized ((2+1)D, P3D, mixed
convolutions) and resnet3d (R3D / MC3 / R(2+1)D builders). Import from the submodules, e.g.
``from course.nn.conv3d import conv3d``.
"""
