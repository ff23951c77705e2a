"""Registered weights of the timm-backed families (generated; do not edit).

Written by scripts/gen_pretrained_catalog.py from timm's pretrained configs and
timm's results-imagenet.csv. Revisions and sha256 are not pinned here:
`cnnzoo fetch NAME.TAG --lock cnnzoo.lock` pins them.
"""

TIMM_WEIGHTS = {
    'resnet18': {
        'tv_in1k': {
            'repo_id': 'timm/resnet18.tv_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bilinear',
            'license': 'bsd-3-clause',
            'metrics': {
                'imagenet-1k/top1': 69.752,
                'imagenet-1k/top5': 89.082,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "torchvision's original weights, re-hosted by timm; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'resnet34': {
        'tv_in1k': {
            'repo_id': 'timm/resnet34.tv_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bilinear',
            'license': 'bsd-3-clause',
            'metrics': {
                'imagenet-1k/top1': 73.298,
                'imagenet-1k/top5': 91.422,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "torchvision's original weights, re-hosted by timm; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'resnet101': {
        'tv_in1k': {
            'repo_id': 'timm/resnet101.tv_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bilinear',
            'license': 'bsd-3-clause',
            'metrics': {
                'imagenet-1k/top1': 77.404,
                'imagenet-1k/top5': 93.552,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "torchvision's original weights, re-hosted by timm; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'resnet152': {
        'tv_in1k': {
            'repo_id': 'timm/resnet152.tv_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bilinear',
            'license': 'bsd-3-clause',
            'metrics': {
                'imagenet-1k/top1': 78.33,
                'imagenet-1k/top5': 94.046,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "torchvision's original weights, re-hosted by timm; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'resnet50': {
        'tv_in1k': {
            'repo_id': 'timm/resnet50.tv_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bilinear',
            'license': 'bsd-3-clause',
            'metrics': {
                'imagenet-1k/top1': 76.156,
                'imagenet-1k/top5': 92.866,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "torchvision's original weights, re-hosted by timm; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
        'a1_in1k': {
            'repo_id': 'timm/resnet50.a1_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.95,
            'interpolation': 'bicubic',
            'license': 'apache-2.0',
            'metrics': {
                'imagenet-1k/top1': 80.382,
                'imagenet-1k/top5': 94.598,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'resnext50_32x4d': {
        'tv_in1k': {
            'repo_id': 'timm/resnext50_32x4d.tv_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bilinear',
            'license': 'bsd-3-clause',
            'metrics': {
                'imagenet-1k/top1': 77.632,
                'imagenet-1k/top5': 93.674,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "torchvision's original weights, re-hosted by timm; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'resnext101_32x8d': {
        'tv_in1k': {
            'repo_id': 'timm/resnext101_32x8d.tv_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bilinear',
            'license': 'bsd-3-clause',
            'metrics': {
                'imagenet-1k/top1': 79.308,
                'imagenet-1k/top5': 94.53,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "torchvision's original weights, re-hosted by timm; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'seresnet50': {
        'ra2_in1k': {
            'repo_id': 'timm/seresnet50.ra2_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'apache-2.0',
            'metrics': {
                'imagenet-1k/top1': 80.26,
                'imagenet-1k/top5': 95.068,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'senet154': {
        'gluon_in1k': {
            'repo_id': 'timm/senet154.gluon_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'apache-2.0',
            'metrics': {
                'imagenet-1k/top1': 81.258,
                'imagenet-1k/top5': 95.358,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'vgg11': {
        'tv_in1k': {
            'repo_id': 'timm/vgg11.tv_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bilinear',
            'license': 'bsd-3-clause',
            'metrics': {
                'imagenet-1k/top1': 69.05,
                'imagenet-1k/top5': 88.63,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "torchvision's original weights, re-hosted by timm; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'vgg11_bn': {
        'tv_in1k': {
            'repo_id': 'timm/vgg11_bn.tv_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bilinear',
            'license': 'bsd-3-clause',
            'metrics': {
                'imagenet-1k/top1': 70.374,
                'imagenet-1k/top5': 89.802,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "torchvision's original weights, re-hosted by timm; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'vgg13': {
        'tv_in1k': {
            'repo_id': 'timm/vgg13.tv_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bilinear',
            'license': 'bsd-3-clause',
            'metrics': {
                'imagenet-1k/top1': 69.95,
                'imagenet-1k/top5': 89.262,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "torchvision's original weights, re-hosted by timm; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'vgg13_bn': {
        'tv_in1k': {
            'repo_id': 'timm/vgg13_bn.tv_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bilinear',
            'license': 'bsd-3-clause',
            'metrics': {
                'imagenet-1k/top1': 71.56,
                'imagenet-1k/top5': 90.372,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "torchvision's original weights, re-hosted by timm; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'vgg16': {
        'tv_in1k': {
            'repo_id': 'timm/vgg16.tv_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bilinear',
            'license': 'bsd-3-clause',
            'metrics': {
                'imagenet-1k/top1': 71.594,
                'imagenet-1k/top5': 90.398,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "torchvision's original weights, re-hosted by timm; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'vgg16_bn': {
        'tv_in1k': {
            'repo_id': 'timm/vgg16_bn.tv_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bilinear',
            'license': 'bsd-3-clause',
            'metrics': {
                'imagenet-1k/top1': 73.354,
                'imagenet-1k/top5': 91.49,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "torchvision's original weights, re-hosted by timm; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'vgg19': {
        'tv_in1k': {
            'repo_id': 'timm/vgg19.tv_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bilinear',
            'license': 'bsd-3-clause',
            'metrics': {
                'imagenet-1k/top1': 72.4,
                'imagenet-1k/top5': 90.878,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "torchvision's original weights, re-hosted by timm; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'vgg19_bn': {
        'tv_in1k': {
            'repo_id': 'timm/vgg19_bn.tv_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bilinear',
            'license': 'bsd-3-clause',
            'metrics': {
                'imagenet-1k/top1': 74.23,
                'imagenet-1k/top5': 91.848,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "torchvision's original weights, re-hosted by timm; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'mobilenetv2_100': {
        'ra_in1k': {
            'repo_id': 'timm/mobilenetv2_100.ra_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'apache-2.0',
            'metrics': {
                'imagenet-1k/top1': 72.91,
                'imagenet-1k/top5': 91.0,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'mobilenetv3_small_100': {
        'lamb_in1k': {
            'repo_id': 'timm/mobilenetv3_small_100.lamb_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'apache-2.0',
            'metrics': {
                'imagenet-1k/top1': 67.636,
                'imagenet-1k/top5': 87.638,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'mobilenetv3_large_100': {
        'ra_in1k': {
            'repo_id': 'timm/mobilenetv3_large_100.ra_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'apache-2.0',
            'metrics': {
                'imagenet-1k/top1': 75.784,
                'imagenet-1k/top5': 92.528,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'efficientnet_b0': {
        'ra_in1k': {
            'repo_id': 'timm/efficientnet_b0.ra_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'apache-2.0',
            'metrics': {
                'imagenet-1k/top1': 77.698,
                'imagenet-1k/top5': 93.538,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'efficientnet_b1': {
        'ft_in1k': {
            'repo_id': 'timm/efficientnet_b1.ft_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'apache-2.0',
            'metrics': {
                'imagenet-1k/top1': 77.592,
                'imagenet-1k/top5': 93.636,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'efficientnet_b2': {
        'ra_in1k': {
            'repo_id': 'timm/efficientnet_b2.ra_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 256, 256),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'apache-2.0',
            'metrics': {
                'imagenet-1k/top1': 79.324,
                'imagenet-1k/top5': 94.582,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'efficientnet_b3': {
        'ra2_in1k': {
            'repo_id': 'timm/efficientnet_b3.ra2_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 288, 288),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'apache-2.0',
            'metrics': {
                'imagenet-1k/top1': 81.472,
                'imagenet-1k/top5': 95.696,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'efficientnet_b4': {
        'ra2_in1k': {
            'repo_id': 'timm/efficientnet_b4.ra2_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 320, 320),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'apache-2.0',
            'metrics': {
                'imagenet-1k/top1': 82.658,
                'imagenet-1k/top5': 96.134,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'efficientnet_b5': {
        'sw_in12k_ft_in1k': {
            'repo_id': 'timm/efficientnet_b5.sw_in12k_ft_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 448, 448),
            'crop_pct': 1.0,
            'interpolation': 'bicubic',
            'license': 'apache-2.0',
            'metrics': {
                'imagenet-1k/top1': 85.894,
                'imagenet-1k/top5': 97.742,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'convnext_tiny': {
        'fb_in1k': {
            'repo_id': 'timm/convnext_tiny.fb_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'apache-2.0',
            'metrics': {
                'imagenet-1k/top1': 82.066,
                'imagenet-1k/top5': 95.854,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'convnext_small': {
        'fb_in1k': {
            'repo_id': 'timm/convnext_small.fb_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'apache-2.0',
            'metrics': {
                'imagenet-1k/top1': 83.144,
                'imagenet-1k/top5': 96.432,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'convnext_base': {
        'fb_in1k': {
            'repo_id': 'timm/convnext_base.fb_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'apache-2.0',
            'metrics': {
                'imagenet-1k/top1': 83.838,
                'imagenet-1k/top5': 96.746,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'convnext_large': {
        'fb_in1k': {
            'repo_id': 'timm/convnext_large.fb_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'apache-2.0',
            'metrics': {
                'imagenet-1k/top1': 84.304,
                'imagenet-1k/top5': 96.892,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'inception_v3': {
        'tv_in1k': {
            'repo_id': 'timm/inception_v3.tv_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.5, 0.5, 0.5),
            'std': (0.5, 0.5, 0.5),
            'input_size': (3, 299, 299),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'apache-2.0',
            'metrics': {
                'imagenet-1k/top1': 77.472,
                'imagenet-1k/top5': 93.468,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "torchvision's original weights, re-hosted by timm; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'densenet121': {
        'tv_in1k': {
            'repo_id': 'timm/densenet121.tv_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'apache-2.0',
            'metrics': {
                'imagenet-1k/top1': 74.75,
                'imagenet-1k/top5': 92.158,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "torchvision's original weights, re-hosted by timm; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
        'ra_in1k': {
            'repo_id': 'timm/densenet121.ra_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'apache-2.0',
            'metrics': {
                'imagenet-1k/top1': 75.574,
                'imagenet-1k/top5': 92.648,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'densenet161': {
        'tv_in1k': {
            'repo_id': 'timm/densenet161.tv_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'apache-2.0',
            'metrics': {
                'imagenet-1k/top1': 77.384,
                'imagenet-1k/top5': 93.656,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "torchvision's original weights, re-hosted by timm; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'densenet169': {
        'tv_in1k': {
            'repo_id': 'timm/densenet169.tv_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'apache-2.0',
            'metrics': {
                'imagenet-1k/top1': 75.922,
                'imagenet-1k/top5': 92.976,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "torchvision's original weights, re-hosted by timm; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'densenet201': {
        'tv_in1k': {
            'repo_id': 'timm/densenet201.tv_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'apache-2.0',
            'metrics': {
                'imagenet-1k/top1': 77.284,
                'imagenet-1k/top5': 93.48,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "torchvision's original weights, re-hosted by timm; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'wide_resnet50_2': {
        'tv_in1k': {
            'repo_id': 'timm/wide_resnet50_2.tv_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bilinear',
            'license': 'bsd-3-clause',
            'metrics': {
                'imagenet-1k/top1': 78.486,
                'imagenet-1k/top5': 94.084,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "torchvision's original weights, re-hosted by timm; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
        'tv2_in1k': {
            'repo_id': 'timm/wide_resnet50_2.tv2_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 176, 176),
            'crop_pct': 0.875,
            'interpolation': 'bilinear',
            'license': 'bsd-3-clause',
            'metrics': {
                'imagenet-1k/top1': 80.442,
                'imagenet-1k/top5': 95.076,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "torchvision's IMAGENET1K_V2 weights (its new recipe), re-hosted by timm; "
                "top-1/top-5 from timm's results-imagenet.csv at the tag's input size"
            ),
        },
        'racm_in1k': {
            'repo_id': 'timm/wide_resnet50_2.racm_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'apache-2.0',
            'metrics': {
                'imagenet-1k/top1': 81.466,
                'imagenet-1k/top5': 95.544,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'wide_resnet101_2': {
        'tv_in1k': {
            'repo_id': 'timm/wide_resnet101_2.tv_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bilinear',
            'license': 'bsd-3-clause',
            'metrics': {
                'imagenet-1k/top1': 78.862,
                'imagenet-1k/top5': 94.312,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "torchvision's original weights, re-hosted by timm; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
        'tv2_in1k': {
            'repo_id': 'timm/wide_resnet101_2.tv2_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 176, 176),
            'crop_pct': 0.875,
            'interpolation': 'bilinear',
            'license': 'bsd-3-clause',
            'metrics': {
                'imagenet-1k/top1': 80.494,
                'imagenet-1k/top5': 94.978,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "torchvision's IMAGENET1K_V2 weights (its new recipe), re-hosted by timm; "
                "top-1/top-5 from timm's results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'resnext101_64x4d': {
        'tv_in1k': {
            'repo_id': 'timm/resnext101_64x4d.tv_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bilinear',
            'license': 'bsd-3-clause',
            'metrics': {
                'imagenet-1k/top1': 82.978,
                'imagenet-1k/top5': 96.252,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "torchvision's original weights, re-hosted by timm; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
        'c1_in1k': {
            'repo_id': 'timm/resnext101_64x4d.c1_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.95,
            'interpolation': 'bicubic',
            'license': 'apache-2.0',
            'metrics': {
                'imagenet-1k/top1': 82.446,
                'imagenet-1k/top5': 95.92,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
        'gluon_in1k': {
            'repo_id': 'timm/resnext101_64x4d.gluon_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'apache-2.0',
            'metrics': {
                'imagenet-1k/top1': 80.64,
                'imagenet-1k/top5': 95.0,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'regnetx_004_tv': {
        'tv2_in1k': {
            'repo_id': 'timm/regnetx_004_tv.tv2_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.965,
            'interpolation': 'bicubic',
            'license': 'bsd-3-clause',
            'metrics': {
                'imagenet-1k/top1': 74.596,
                'imagenet-1k/top5': 92.14,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "torchvision's IMAGENET1K_V2 weights (its new recipe), re-hosted by timm; "
                "top-1/top-5 from timm's results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'regnetx_008': {
        'tv2_in1k': {
            'repo_id': 'timm/regnetx_008.tv2_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.965,
            'interpolation': 'bicubic',
            'license': 'bsd-3-clause',
            'metrics': {
                'imagenet-1k/top1': 77.294,
                'imagenet-1k/top5': 93.664,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "torchvision's IMAGENET1K_V2 weights (its new recipe), re-hosted by timm; "
                "top-1/top-5 from timm's results-imagenet.csv at the tag's input size"
            ),
        },
        'pycls_in1k': {
            'repo_id': 'timm/regnetx_008.pycls_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'mit',
            'metrics': {
                'imagenet-1k/top1': 75.054,
                'imagenet-1k/top5': 92.338,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'regnetx_016': {
        'tv2_in1k': {
            'repo_id': 'timm/regnetx_016.tv2_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.965,
            'interpolation': 'bicubic',
            'license': 'bsd-3-clause',
            'metrics': {
                'imagenet-1k/top1': 79.44,
                'imagenet-1k/top5': 94.768,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "torchvision's IMAGENET1K_V2 weights (its new recipe), re-hosted by timm; "
                "top-1/top-5 from timm's results-imagenet.csv at the tag's input size"
            ),
        },
        'pycls_in1k': {
            'repo_id': 'timm/regnetx_016.pycls_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'mit',
            'metrics': {
                'imagenet-1k/top1': 76.936,
                'imagenet-1k/top5': 93.432,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'regnetx_032': {
        'tv2_in1k': {
            'repo_id': 'timm/regnetx_032.tv2_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.965,
            'interpolation': 'bicubic',
            'license': 'bsd-3-clause',
            'metrics': {
                'imagenet-1k/top1': 80.916,
                'imagenet-1k/top5': 95.248,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "torchvision's IMAGENET1K_V2 weights (its new recipe), re-hosted by timm; "
                "top-1/top-5 from timm's results-imagenet.csv at the tag's input size"
            ),
        },
        'pycls_in1k': {
            'repo_id': 'timm/regnetx_032.pycls_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'mit',
            'metrics': {
                'imagenet-1k/top1': 78.16,
                'imagenet-1k/top5': 94.088,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'regnetx_080': {
        'tv2_in1k': {
            'repo_id': 'timm/regnetx_080.tv2_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.965,
            'interpolation': 'bicubic',
            'license': 'bsd-3-clause',
            'metrics': {
                'imagenet-1k/top1': 81.552,
                'imagenet-1k/top5': 95.54,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "torchvision's IMAGENET1K_V2 weights (its new recipe), re-hosted by timm; "
                "top-1/top-5 from timm's results-imagenet.csv at the tag's input size"
            ),
        },
        'pycls_in1k': {
            'repo_id': 'timm/regnetx_080.pycls_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'mit',
            'metrics': {
                'imagenet-1k/top1': 79.214,
                'imagenet-1k/top5': 94.542,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'regnetx_160': {
        'tv2_in1k': {
            'repo_id': 'timm/regnetx_160.tv2_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.965,
            'interpolation': 'bicubic',
            'license': 'bsd-3-clause',
            'metrics': {
                'imagenet-1k/top1': 82.574,
                'imagenet-1k/top5': 96.058,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "torchvision's IMAGENET1K_V2 weights (its new recipe), re-hosted by timm; "
                "top-1/top-5 from timm's results-imagenet.csv at the tag's input size"
            ),
        },
        'pycls_in1k': {
            'repo_id': 'timm/regnetx_160.pycls_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'mit',
            'metrics': {
                'imagenet-1k/top1': 79.844,
                'imagenet-1k/top5': 94.852,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'regnetx_320': {
        'tv2_in1k': {
            'repo_id': 'timm/regnetx_320.tv2_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.965,
            'interpolation': 'bicubic',
            'license': 'bsd-3-clause',
            'metrics': {
                'imagenet-1k/top1': 82.824,
                'imagenet-1k/top5': 96.2,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "torchvision's IMAGENET1K_V2 weights (its new recipe), re-hosted by timm; "
                "top-1/top-5 from timm's results-imagenet.csv at the tag's input size"
            ),
        },
        'pycls_in1k': {
            'repo_id': 'timm/regnetx_320.pycls_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'mit',
            'metrics': {
                'imagenet-1k/top1': 80.258,
                'imagenet-1k/top5': 95.016,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'regnety_004': {
        'tv2_in1k': {
            'repo_id': 'timm/regnety_004.tv2_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.965,
            'interpolation': 'bicubic',
            'license': 'bsd-3-clause',
            'metrics': {
                'imagenet-1k/top1': 75.594,
                'imagenet-1k/top5': 92.706,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "torchvision's IMAGENET1K_V2 weights (its new recipe), re-hosted by timm; "
                "top-1/top-5 from timm's results-imagenet.csv at the tag's input size"
            ),
        },
        'pycls_in1k': {
            'repo_id': 'timm/regnety_004.pycls_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'mit',
            'metrics': {
                'imagenet-1k/top1': 74.004,
                'imagenet-1k/top5': 91.756,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'regnety_008_tv': {
        'tv2_in1k': {
            'repo_id': 'timm/regnety_008_tv.tv2_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.965,
            'interpolation': 'bicubic',
            'license': 'bsd-3-clause',
            'metrics': {
                'imagenet-1k/top1': 78.672,
                'imagenet-1k/top5': 94.38,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "torchvision's IMAGENET1K_V2 weights (its new recipe), re-hosted by timm; "
                "top-1/top-5 from timm's results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'regnety_016': {
        'tv2_in1k': {
            'repo_id': 'timm/regnety_016.tv2_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.965,
            'interpolation': 'bicubic',
            'license': 'bsd-3-clause',
            'metrics': {
                'imagenet-1k/top1': 80.668,
                'imagenet-1k/top5': 95.336,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "torchvision's IMAGENET1K_V2 weights (its new recipe), re-hosted by timm; "
                "top-1/top-5 from timm's results-imagenet.csv at the tag's input size"
            ),
        },
        'pycls_in1k': {
            'repo_id': 'timm/regnety_016.pycls_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'mit',
            'metrics': {
                'imagenet-1k/top1': 77.88,
                'imagenet-1k/top5': 93.726,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'regnety_032': {
        'tv2_in1k': {
            'repo_id': 'timm/regnety_032.tv2_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.965,
            'interpolation': 'bicubic',
            'license': 'bsd-3-clause',
            'metrics': {
                'imagenet-1k/top1': 81.788,
                'imagenet-1k/top5': 95.826,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "torchvision's IMAGENET1K_V2 weights (its new recipe), re-hosted by timm; "
                "top-1/top-5 from timm's results-imagenet.csv at the tag's input size"
            ),
        },
        'ra_in1k': {
            'repo_id': 'timm/regnety_032.ra_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.95,
            'interpolation': 'bicubic',
            'license': 'apache-2.0',
            'metrics': {
                'imagenet-1k/top1': 81.948,
                'imagenet-1k/top5': 95.972,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
        'pycls_in1k': {
            'repo_id': 'timm/regnety_032.pycls_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'mit',
            'metrics': {
                'imagenet-1k/top1': 78.902,
                'imagenet-1k/top5': 94.426,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'regnety_080_tv': {
        'tv2_in1k': {
            'repo_id': 'timm/regnety_080_tv.tv2_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.965,
            'interpolation': 'bicubic',
            'license': 'bsd-3-clause',
            'metrics': {
                'imagenet-1k/top1': 82.58,
                'imagenet-1k/top5': 96.26,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "torchvision's IMAGENET1K_V2 weights (its new recipe), re-hosted by timm; "
                "top-1/top-5 from timm's results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'regnety_160': {
        'tv2_in1k': {
            'repo_id': 'timm/regnety_160.tv2_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.965,
            'interpolation': 'bicubic',
            'license': 'bsd-3-clause',
            'metrics': {
                'imagenet-1k/top1': 82.646,
                'imagenet-1k/top5': 96.23,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "torchvision's IMAGENET1K_V2 weights (its new recipe), re-hosted by timm; "
                "top-1/top-5 from timm's results-imagenet.csv at the tag's input size"
            ),
        },
        'sw_in12k_ft_in1k': {
            'repo_id': 'timm/regnety_160.sw_in12k_ft_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.95,
            'interpolation': 'bicubic',
            'license': 'apache-2.0',
            'metrics': {
                'imagenet-1k/top1': 85.596,
                'imagenet-1k/top5': 97.668,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
        'lion_in12k_ft_in1k': {
            'repo_id': 'timm/regnety_160.lion_in12k_ft_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.95,
            'interpolation': 'bicubic',
            'license': 'apache-2.0',
            'metrics': {
                'imagenet-1k/top1': 85.602,
                'imagenet-1k/top5': 97.668,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
        'deit_in1k': {
            'repo_id': 'timm/regnety_160.deit_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.95,
            'interpolation': 'bicubic',
            'license': 'apache-2.0',
            'metrics': {
                'imagenet-1k/top1': 83.0,
                'imagenet-1k/top5': 96.502,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
        'swag_ft_in1k': {
            'repo_id': 'timm/regnety_160.swag_ft_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 384, 384),
            'crop_pct': 1.0,
            'interpolation': 'bicubic',
            'license': 'cc-by-nc-4.0',
            'metrics': {
                'imagenet-1k/top1': 86.02,
                'imagenet-1k/top5': 98.046,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
        'swag_lc_in1k': {
            'repo_id': 'timm/regnety_160.swag_lc_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.965,
            'interpolation': 'bicubic',
            'license': 'cc-by-nc-4.0',
            'metrics': {
                'imagenet-1k/top1': 83.806,
                'imagenet-1k/top5': 97.284,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
        'pycls_in1k': {
            'repo_id': 'timm/regnety_160.pycls_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'mit',
            'metrics': {
                'imagenet-1k/top1': 80.284,
                'imagenet-1k/top5': 94.982,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'regnety_320': {
        'tv2_in1k': {
            'repo_id': 'timm/regnety_320.tv2_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.965,
            'interpolation': 'bicubic',
            'license': 'bsd-3-clause',
            'metrics': {
                'imagenet-1k/top1': 83.17,
                'imagenet-1k/top5': 96.416,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "torchvision's IMAGENET1K_V2 weights (its new recipe), re-hosted by timm; "
                "top-1/top-5 from timm's results-imagenet.csv at the tag's input size"
            ),
        },
        'swag_ft_in1k': {
            'repo_id': 'timm/regnety_320.swag_ft_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 384, 384),
            'crop_pct': 1.0,
            'interpolation': 'bicubic',
            'license': 'cc-by-nc-4.0',
            'metrics': {
                'imagenet-1k/top1': 86.83,
                'imagenet-1k/top5': 98.362,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
        'swag_lc_in1k': {
            'repo_id': 'timm/regnety_320.swag_lc_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.965,
            'interpolation': 'bicubic',
            'license': 'cc-by-nc-4.0',
            'metrics': {
                'imagenet-1k/top1': 84.654,
                'imagenet-1k/top5': 97.492,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
        'seer_ft_in1k': {
            'repo_id': 'timm/regnety_320.seer_ft_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 384, 384),
            'crop_pct': 1.0,
            'interpolation': 'bicubic',
            'license': 'seer-license',
            'metrics': {
                'imagenet-1k/top1': 83.324,
                'imagenet-1k/top5': 96.712,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
        'pycls_in1k': {
            'repo_id': 'timm/regnety_320.pycls_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'mit',
            'metrics': {
                'imagenet-1k/top1': 80.796,
                'imagenet-1k/top5': 95.246,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'regnety_1280': {
        'swag_ft_in1k': {
            'repo_id': 'timm/regnety_1280.swag_ft_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 384, 384),
            'crop_pct': 1.0,
            'interpolation': 'bicubic',
            'license': 'cc-by-nc-4.0',
            'metrics': {
                'imagenet-1k/top1': 88.228,
                'imagenet-1k/top5': 98.684,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
        'swag_lc_in1k': {
            'repo_id': 'timm/regnety_1280.swag_lc_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.965,
            'interpolation': 'bicubic',
            'license': 'cc-by-nc-4.0',
            'metrics': {
                'imagenet-1k/top1': 85.964,
                'imagenet-1k/top5': 97.852,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
        'seer_ft_in1k': {
            'repo_id': 'timm/regnety_1280.seer_ft_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 384, 384),
            'crop_pct': 1.0,
            'interpolation': 'bicubic',
            'license': 'seer-license',
            'metrics': {
                'imagenet-1k/top1': 84.426,
                'imagenet-1k/top5': 97.086,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'efficientnet_lite0': {
        'ra_in1k': {
            'repo_id': 'timm/efficientnet_lite0.ra_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'apache-2.0',
            'metrics': {
                'imagenet-1k/top1': 75.488,
                'imagenet-1k/top5': 92.508,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'tf_efficientnet_lite0': {
        'in1k': {
            'repo_id': 'timm/tf_efficientnet_lite0.in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.5, 0.5, 0.5),
            'std': (0.5, 0.5, 0.5),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'apache-2.0',
            'metrics': {
                'imagenet-1k/top1': 74.846,
                'imagenet-1k/top5': 92.18,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'tf_efficientnet_lite1': {
        'in1k': {
            'repo_id': 'timm/tf_efficientnet_lite1.in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.5, 0.5, 0.5),
            'std': (0.5, 0.5, 0.5),
            'input_size': (3, 240, 240),
            'crop_pct': 0.882,
            'interpolation': 'bicubic',
            'license': 'apache-2.0',
            'metrics': {
                'imagenet-1k/top1': 76.674,
                'imagenet-1k/top5': 93.232,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'tf_efficientnet_lite2': {
        'in1k': {
            'repo_id': 'timm/tf_efficientnet_lite2.in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.5, 0.5, 0.5),
            'std': (0.5, 0.5, 0.5),
            'input_size': (3, 260, 260),
            'crop_pct': 0.89,
            'interpolation': 'bicubic',
            'license': 'apache-2.0',
            'metrics': {
                'imagenet-1k/top1': 77.47,
                'imagenet-1k/top5': 93.756,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'tf_efficientnet_lite3': {
        'in1k': {
            'repo_id': 'timm/tf_efficientnet_lite3.in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.5, 0.5, 0.5),
            'std': (0.5, 0.5, 0.5),
            'input_size': (3, 300, 300),
            'crop_pct': 0.904,
            'interpolation': 'bilinear',
            'license': 'apache-2.0',
            'metrics': {
                'imagenet-1k/top1': 79.808,
                'imagenet-1k/top5': 94.908,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'tf_efficientnet_lite4': {
        'in1k': {
            'repo_id': 'timm/tf_efficientnet_lite4.in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.5, 0.5, 0.5),
            'std': (0.5, 0.5, 0.5),
            'input_size': (3, 380, 380),
            'crop_pct': 0.92,
            'interpolation': 'bilinear',
            'license': 'apache-2.0',
            'metrics': {
                'imagenet-1k/top1': 81.54,
                'imagenet-1k/top5': 95.668,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'convnextv2_atto': {
        'fcmae_ft_in1k': {
            'repo_id': 'timm/convnextv2_atto.fcmae_ft_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'cc-by-nc-4.0',
            'metrics': {
                'imagenet-1k/top1': 76.644,
                'imagenet-1k/top5': 93.042,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
        'fcmae': {
            'repo_id': 'timm/convnextv2_atto.fcmae',
            'format': 'timm',
            'num_classes': 0,
            'labels': None,
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'cc-by-nc-4.0',
            'metrics': {},
            'dataset': 'imagenet-1k',
            'description': 'a pretraining checkpoint without a classifier (features only)',
        },
    },
    'convnextv2_femto': {
        'fcmae_ft_in1k': {
            'repo_id': 'timm/convnextv2_femto.fcmae_ft_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'cc-by-nc-4.0',
            'metrics': {
                'imagenet-1k/top1': 78.476,
                'imagenet-1k/top5': 93.984,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
        'fcmae': {
            'repo_id': 'timm/convnextv2_femto.fcmae',
            'format': 'timm',
            'num_classes': 0,
            'labels': None,
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'cc-by-nc-4.0',
            'metrics': {},
            'dataset': 'imagenet-1k',
            'description': 'a pretraining checkpoint without a classifier (features only)',
        },
    },
    'convnextv2_pico': {
        'fcmae_ft_in1k': {
            'repo_id': 'timm/convnextv2_pico.fcmae_ft_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'cc-by-nc-4.0',
            'metrics': {
                'imagenet-1k/top1': 80.304,
                'imagenet-1k/top5': 95.082,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
        'fcmae': {
            'repo_id': 'timm/convnextv2_pico.fcmae',
            'format': 'timm',
            'num_classes': 0,
            'labels': None,
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'cc-by-nc-4.0',
            'metrics': {},
            'dataset': 'imagenet-1k',
            'description': 'a pretraining checkpoint without a classifier (features only)',
        },
    },
    'convnextv2_nano': {
        'fcmae_ft_in22k_in1k': {
            'repo_id': 'timm/convnextv2_nano.fcmae_ft_in22k_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'cc-by-nc-4.0',
            'metrics': {
                'imagenet-1k/top1': 82.038,
                'imagenet-1k/top5': 96.174,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
        'fcmae_ft_in22k_in1k_384': {
            'repo_id': 'timm/convnextv2_nano.fcmae_ft_in22k_in1k_384',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 384, 384),
            'crop_pct': 1.0,
            'interpolation': 'bicubic',
            'license': 'cc-by-nc-4.0',
            'metrics': {
                'imagenet-1k/top1': 83.366,
                'imagenet-1k/top5': 96.74,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
        'fcmae_ft_in1k': {
            'repo_id': 'timm/convnextv2_nano.fcmae_ft_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'cc-by-nc-4.0',
            'metrics': {
                'imagenet-1k/top1': 81.856,
                'imagenet-1k/top5': 95.74,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
        'fcmae': {
            'repo_id': 'timm/convnextv2_nano.fcmae',
            'format': 'timm',
            'num_classes': 0,
            'labels': None,
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'cc-by-nc-4.0',
            'metrics': {},
            'dataset': 'imagenet-1k',
            'description': 'a pretraining checkpoint without a classifier (features only)',
        },
    },
    'convnextv2_tiny': {
        'fcmae_ft_in22k_in1k': {
            'repo_id': 'timm/convnextv2_tiny.fcmae_ft_in22k_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'cc-by-nc-4.0',
            'metrics': {
                'imagenet-1k/top1': 83.904,
                'imagenet-1k/top5': 96.964,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
        'fcmae_ft_in22k_in1k_384': {
            'repo_id': 'timm/convnextv2_tiny.fcmae_ft_in22k_in1k_384',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 384, 384),
            'crop_pct': 1.0,
            'interpolation': 'bicubic',
            'license': 'cc-by-nc-4.0',
            'metrics': {
                'imagenet-1k/top1': 85.098,
                'imagenet-1k/top5': 97.632,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
        'fcmae_ft_in1k': {
            'repo_id': 'timm/convnextv2_tiny.fcmae_ft_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'cc-by-nc-4.0',
            'metrics': {
                'imagenet-1k/top1': 82.948,
                'imagenet-1k/top5': 96.286,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
        'fcmae': {
            'repo_id': 'timm/convnextv2_tiny.fcmae',
            'format': 'timm',
            'num_classes': 0,
            'labels': None,
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'cc-by-nc-4.0',
            'metrics': {},
            'dataset': 'imagenet-1k',
            'description': 'a pretraining checkpoint without a classifier (features only)',
        },
    },
    'convnextv2_base': {
        'fcmae_ft_in22k_in1k': {
            'repo_id': 'timm/convnextv2_base.fcmae_ft_in22k_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'cc-by-nc-4.0',
            'metrics': {
                'imagenet-1k/top1': 86.752,
                'imagenet-1k/top5': 98.02,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
        'fcmae_ft_in22k_in1k_384': {
            'repo_id': 'timm/convnextv2_base.fcmae_ft_in22k_in1k_384',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 384, 384),
            'crop_pct': 1.0,
            'interpolation': 'bicubic',
            'license': 'cc-by-nc-4.0',
            'metrics': {
                'imagenet-1k/top1': 87.638,
                'imagenet-1k/top5': 98.416,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
        'fcmae_ft_in1k': {
            'repo_id': 'timm/convnextv2_base.fcmae_ft_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'cc-by-nc-4.0',
            'metrics': {
                'imagenet-1k/top1': 84.89,
                'imagenet-1k/top5': 97.088,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
        'fcmae': {
            'repo_id': 'timm/convnextv2_base.fcmae',
            'format': 'timm',
            'num_classes': 0,
            'labels': None,
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'cc-by-nc-4.0',
            'metrics': {},
            'dataset': 'imagenet-1k',
            'description': 'a pretraining checkpoint without a classifier (features only)',
        },
    },
    'convnextv2_large': {
        'fcmae_ft_in22k_in1k': {
            'repo_id': 'timm/convnextv2_large.fcmae_ft_in22k_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'cc-by-nc-4.0',
            'metrics': {
                'imagenet-1k/top1': 87.266,
                'imagenet-1k/top5': 98.24,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
        'fcmae_ft_in22k_in1k_384': {
            'repo_id': 'timm/convnextv2_large.fcmae_ft_in22k_in1k_384',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 384, 384),
            'crop_pct': 1.0,
            'interpolation': 'bicubic',
            'license': 'cc-by-nc-4.0',
            'metrics': {
                'imagenet-1k/top1': 88.18,
                'imagenet-1k/top5': 98.52,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
        'fcmae_ft_in1k': {
            'repo_id': 'timm/convnextv2_large.fcmae_ft_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'cc-by-nc-4.0',
            'metrics': {
                'imagenet-1k/top1': 85.762,
                'imagenet-1k/top5': 97.574,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
        'fcmae': {
            'repo_id': 'timm/convnextv2_large.fcmae',
            'format': 'timm',
            'num_classes': 0,
            'labels': None,
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'cc-by-nc-4.0',
            'metrics': {},
            'dataset': 'imagenet-1k',
            'description': 'a pretraining checkpoint without a classifier (features only)',
        },
    },
    'mobilenetv4_conv_small': {
        'e2400_r224_in1k': {
            'repo_id': 'timm/mobilenetv4_conv_small.e2400_r224_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'apache-2.0',
            'metrics': {
                'imagenet-1k/top1': 73.756,
                'imagenet-1k/top5': 91.43,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
        'e1200_r224_in1k': {
            'repo_id': 'timm/mobilenetv4_conv_small.e1200_r224_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.875,
            'interpolation': 'bicubic',
            'license': 'apache-2.0',
            'metrics': {
                'imagenet-1k/top1': 73.45,
                'imagenet-1k/top5': 91.34,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
        'e3600_r256_in1k': {
            'repo_id': 'timm/mobilenetv4_conv_small.e3600_r256_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.5, 0.5, 0.5),
            'std': (0.5, 0.5, 0.5),
            'input_size': (3, 256, 256),
            'crop_pct': 0.95,
            'interpolation': 'bicubic',
            'license': 'apache-2.0',
            'metrics': {
                'imagenet-1k/top1': 74.534,
                'imagenet-1k/top5': 91.94,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'mobilenetv4_conv_medium': {
        'e500_r256_in1k': {
            'repo_id': 'timm/mobilenetv4_conv_medium.e500_r256_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 256, 256),
            'crop_pct': 0.95,
            'interpolation': 'bicubic',
            'license': 'apache-2.0',
            'metrics': {
                'imagenet-1k/top1': 79.916,
                'imagenet-1k/top5': 95.188,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
        'e500_r224_in1k': {
            'repo_id': 'timm/mobilenetv4_conv_medium.e500_r224_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.95,
            'interpolation': 'bicubic',
            'license': 'apache-2.0',
            'metrics': {
                'imagenet-1k/top1': 79.092,
                'imagenet-1k/top5': 94.788,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
        'e250_r384_in12k_ft_in1k': {
            'repo_id': 'timm/mobilenetv4_conv_medium.e250_r384_in12k_ft_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 384, 384),
            'crop_pct': 0.95,
            'interpolation': 'bicubic',
            'license': 'apache-2.0',
            'metrics': {
                'imagenet-1k/top1': 82.776,
                'imagenet-1k/top5': 96.448,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
        'e180_r384_in12k': {
            'repo_id': 'timm/mobilenetv4_conv_medium.e180_r384_in12k',
            'format': 'timm',
            'num_classes': 11821,
            'labels': None,
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 384, 384),
            'crop_pct': 1.0,
            'interpolation': 'bicubic',
            'license': 'apache-2.0',
            'metrics': {},
            'dataset': 'imagenet-12k',
            'description': 'a 11821-class pretraining checkpoint (not ImageNet-1k)',
        },
        'e180_ad_r384_in12k': {
            'repo_id': 'timm/mobilenetv4_conv_medium.e180_ad_r384_in12k',
            'format': 'timm',
            'num_classes': 11821,
            'labels': None,
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 384, 384),
            'crop_pct': 1.0,
            'interpolation': 'bicubic',
            'license': 'apache-2.0',
            'metrics': {},
            'dataset': 'imagenet-12k',
            'description': 'a 11821-class pretraining checkpoint (not ImageNet-1k)',
        },
        'e250_r384_in12k': {
            'repo_id': 'timm/mobilenetv4_conv_medium.e250_r384_in12k',
            'format': 'timm',
            'num_classes': 11821,
            'labels': None,
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 384, 384),
            'crop_pct': 1.0,
            'interpolation': 'bicubic',
            'license': 'apache-2.0',
            'metrics': {},
            'dataset': 'imagenet-12k',
            'description': 'a 11821-class pretraining checkpoint (not ImageNet-1k)',
        },
    },
    'mobilenetv4_conv_large': {
        'e600_r384_in1k': {
            'repo_id': 'timm/mobilenetv4_conv_large.e600_r384_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 384, 384),
            'crop_pct': 0.95,
            'interpolation': 'bicubic',
            'license': 'apache-2.0',
            'metrics': {
                'imagenet-1k/top1': 82.974,
                'imagenet-1k/top5': 96.244,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
        'e500_r256_in1k': {
            'repo_id': 'timm/mobilenetv4_conv_large.e500_r256_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 256, 256),
            'crop_pct': 0.95,
            'interpolation': 'bicubic',
            'license': 'apache-2.0',
            'metrics': {
                'imagenet-1k/top1': 81.864,
                'imagenet-1k/top5': 95.696,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'mobilenetv4_conv_blur_medium': {
        'e500_r224_in1k': {
            'repo_id': 'timm/mobilenetv4_conv_blur_medium.e500_r224_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 224, 224),
            'crop_pct': 0.95,
            'interpolation': 'bicubic',
            'license': 'apache-2.0',
            'metrics': {
                'imagenet-1k/top1': 79.446,
                'imagenet-1k/top5': 94.92,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
    },
    'mobilenetv4_conv_aa_large': {
        'e230_r448_in12k_ft_in1k': {
            'repo_id': 'timm/mobilenetv4_conv_aa_large.e230_r448_in12k_ft_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 448, 448),
            'crop_pct': 0.95,
            'interpolation': 'bicubic',
            'license': 'apache-2.0',
            'metrics': {
                'imagenet-1k/top1': 84.668,
                'imagenet-1k/top5': 97.108,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
        'e230_r384_in12k_ft_in1k': {
            'repo_id': 'timm/mobilenetv4_conv_aa_large.e230_r384_in12k_ft_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 384, 384),
            'crop_pct': 0.95,
            'interpolation': 'bicubic',
            'license': 'apache-2.0',
            'metrics': {
                'imagenet-1k/top1': 84.314,
                'imagenet-1k/top5': 97.102,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
        'e600_r384_in1k': {
            'repo_id': 'timm/mobilenetv4_conv_aa_large.e600_r384_in1k',
            'format': 'timm',
            'num_classes': 1000,
            'labels': 'imagenet-1k',
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 384, 384),
            'crop_pct': 0.95,
            'interpolation': 'bicubic',
            'license': 'apache-2.0',
            'metrics': {
                'imagenet-1k/top1': 83.264,
                'imagenet-1k/top5': 96.39,
            },
            'dataset': 'imagenet-1k',
            'description': (
                "see the timm model card for the training recipe; top-1/top-5 from timm's "
                "results-imagenet.csv at the tag's input size"
            ),
        },
        'e230_r384_in12k': {
            'repo_id': 'timm/mobilenetv4_conv_aa_large.e230_r384_in12k',
            'format': 'timm',
            'num_classes': 11821,
            'labels': None,
            'mean': (0.485, 0.456, 0.406),
            'std': (0.229, 0.224, 0.225),
            'input_size': (3, 384, 384),
            'crop_pct': 0.95,
            'interpolation': 'bicubic',
            'license': 'apache-2.0',
            'metrics': {},
            'dataset': 'imagenet-12k',
            'description': 'a 11821-class pretraining checkpoint (not ImageNet-1k)',
        },
    },
}
