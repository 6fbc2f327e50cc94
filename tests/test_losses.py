"""Soft Dice loss against MONAI's DiceLoss, its gradients, its extremes and its errors;
Dice + cross-entropy against DiceCELoss."""
import pytest
import torch
from monai.losses import DiceLoss

from course.losses import dice_loss


def monai_dice(logits, target, smooth, include_background):
    loss = DiceLoss(include_background=include_background, to_onehot_y=True, softmax=True, smooth_nr=smooth,
                    smooth_dr=smooth)
    return loss(logits, target if target.dim() == logits.dim() else target[:, None])


@pytest.mark.parametrize("shape", [(2, 3, 5, 7, 9), (1, 2, 3, 4, 5), (3, 4, 6, 5), (2, 5, 3, 3, 3)])
@pytest.mark.parametrize("smooth", [1e-5, 1.0, 0.0])
@pytest.mark.parametrize("include_background", [True, False])
def test_equals_monai_dice_loss(shape, smooth, include_background):
    g = torch.Generator().manual_seed(sum(shape))
    logits = torch.randn(shape, generator=g, dtype=torch.float64) * 3
    target = torch.randint(shape[1], (shape[0], *shape[2:]), generator=g)
    ours = dice_loss(logits, target, smooth=smooth, include_background=include_background)
    theirs = monai_dice(logits, target, smooth, include_background)
    torch.testing.assert_close(ours, theirs)
    # the (N, 1, *S) target layout gives the same loss
    torch.testing.assert_close(dice_loss(logits, target[:, None], smooth=smooth,
                                         include_background=include_background), ours)


def test_gradients_equal_monais():
    g = torch.Generator().manual_seed(7)
    logits = torch.randn(2, 3, 4, 5, 6, generator=g, dtype=torch.float64, requires_grad=True)
    target = torch.randint(3, (2, 4, 5, 6), generator=g)
    ours = torch.autograd.grad(dice_loss(logits, target), logits)[0]
    theirs = torch.autograd.grad(monai_dice(logits, target, 1e-5, True), logits)[0]
    torch.testing.assert_close(ours, theirs)


def test_empty_class_with_and_without_smoothing():
    """Class 2 appears nowhere: smoothing makes its correct absence a perfect match; without smoothing its
    Dice is 0 / (tiny probabilities) = 0, so a correct prediction still costs 1/3 of the loss."""
    target = torch.zeros(1, 3, 4, 5, dtype=torch.int64)
    target[:, :, :2] = 1
    logits = torch.full((1, 3, 3, 4, 5), -30.0, dtype=torch.float64)
    logits[:, 0] = torch.where(target == 0, 30.0, -30.0)
    logits[:, 1] = torch.where(target == 1, 30.0, -30.0)
    assert dice_loss(logits, target).item() == pytest.approx(0.0, abs=1e-6)
    assert dice_loss(logits, target, smooth=0.0).item() == pytest.approx(1 / 3, abs=1e-6)
    torch.testing.assert_close(dice_loss(logits, target, smooth=0.0), monai_dice(logits, target, 0.0, True))


def test_wrong_prediction_costs_almost_one():
    target = torch.randint(2, (2, 5, 6, 7), generator=torch.Generator().manual_seed(0))
    logits = torch.stack([target == 1, target == 0], dim=1).double() * 40 - 20  # everything swapped
    assert dice_loss(logits, target).item() == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("logits_shape, target_shape, kwargs", [
    ((2, 3, 4, 5, 6), (2, 4, 5, 7), {}),
    ((2, 3, 4, 5, 6), (2, 2, 4, 5, 6), {}),
    ((2, 3, 4, 5, 6), (2, 4, 5, 6), dict(smooth=-1.0)),
    ((2, 1, 4, 5, 6), (2, 4, 5, 6), dict(include_background=False)),
])
def test_bad_inputs_are_rejected(logits_shape, target_shape, kwargs):
    with pytest.raises(ValueError):
        dice_loss(torch.randn(logits_shape), torch.zeros(target_shape, dtype=torch.int64), **kwargs)


def test_labels_out_of_range_are_rejected():
    target = torch.zeros(1, 4, 4, 4, dtype=torch.int64)
    target[0, 0, 0, 0] = 3
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        dice_loss(torch.randn(1, 3, 4, 4, 4), target)


# --- Dice + cross-entropy -----------------------------------------------------------------------------------
def monai_dice_ce(logits, target, **kwargs):
    from monai.losses import DiceCELoss

    smooth = kwargs.pop("smooth", 1e-5)
    loss = DiceCELoss(to_onehot_y=True, softmax=True, smooth_nr=smooth, smooth_dr=smooth, **kwargs)
    return loss(logits, target if target.dim() == logits.dim() else target[:, None])


@pytest.mark.parametrize("shape", [(2, 3, 5, 7, 9), (1, 2, 3, 4, 5), (3, 4, 6, 5), (2, 5, 3, 3, 3)])
@pytest.mark.parametrize("kwargs", [
    {},
    dict(lambda_dice=0.3, lambda_ce=1.7),
    dict(lambda_dice=0.0, lambda_ce=1.0),
    dict(lambda_dice=1.0, lambda_ce=0.0, smooth=1.0),
    dict(include_background=False, smooth=0.0),
])
def test_dice_ce_equals_monai(shape, kwargs):
    from course.losses import dice_ce_loss

    g = torch.Generator().manual_seed(sum(shape))
    logits = torch.randn(shape, generator=g, dtype=torch.float64) * 3
    target = torch.randint(shape[1], (shape[0], *shape[2:]), generator=g)
    ours = dice_ce_loss(logits, target, **kwargs)
    torch.testing.assert_close(ours, monai_dice_ce(logits, target, **dict(kwargs)))
    torch.testing.assert_close(dice_ce_loss(logits, target[:, None], **kwargs), ours)  # (N, 1, *S) target


def test_dice_ce_gradients_equal_monais_and_the_terms_add_up():
    from course.losses import dice_ce_loss

    g = torch.Generator().manual_seed(11)
    logits = torch.randn(2, 3, 5, 4, 7, generator=g, dtype=torch.float64, requires_grad=True)
    target = torch.randint(3, (2, 5, 4, 7), generator=g)
    kwargs = dict(lambda_dice=0.6, lambda_ce=1.4, include_background=False)
    ours = torch.autograd.grad(dice_ce_loss(logits, target, **kwargs), logits)[0]
    theirs = torch.autograd.grad(monai_dice_ce(logits, target, **dict(kwargs)), logits)[0]
    torch.testing.assert_close(ours, theirs)
    # the cross-entropy term by hand: mean of -log p(true class) over samples and voxels
    log_p = logits.detach().log_softmax(1)
    by_hand = -log_p.gather(1, target[:, None]).mean()
    torch.testing.assert_close(dice_ce_loss(logits.detach(), target, lambda_dice=0.0), by_hand)
    # include_background leaves cross-entropy alone: only the Dice term changes
    logits = logits.detach()
    difference = dice_ce_loss(logits, target) - dice_ce_loss(logits, target, include_background=False)
    torch.testing.assert_close(difference, dice_loss(logits, target) - dice_loss(logits, target, include_background=False))


@pytest.mark.parametrize("logits_shape, target_shape, kwargs", [
    ((2, 3, 4, 5, 6), (2, 4, 5, 6), dict(lambda_dice=-0.1)),
    ((2, 3, 4, 5, 6), (2, 4, 5, 6), dict(lambda_ce=-1.0)),
    ((2, 1, 4, 5, 6), (2, 4, 5, 6), {}),
    ((2, 3, 4, 5, 6), (2, 4, 5, 7), {}),
])
def test_dice_ce_rejects_bad_inputs(logits_shape, target_shape, kwargs):
    from course.losses import dice_ce_loss

    with pytest.raises(ValueError):
        dice_ce_loss(torch.randn(logits_shape), torch.zeros(target_shape, dtype=torch.int64), **kwargs)
