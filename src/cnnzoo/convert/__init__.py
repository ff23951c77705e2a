"""Checkpoint converters: state dicts of other libraries' layouts into cnnzoo's (timm's) layout.

``cnnzoo.convert.torchvision`` maps torchvision checkpoints of ResNet/ResNeXt, VGG,
MobileNetV2/V3, EfficientNet and ConvNeXt onto the timm modules cnnzoo builds.
"""
