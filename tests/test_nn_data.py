"""nn.data: seeded toy sets and the shipped digits."""

import numpy as np
import pytest

from nn import data


@pytest.mark.parametrize("make", [data.make_moons, data.make_circles, data.make_xor])
def test_binary_toys_are_seeded_and_shaped(make):
    x, y = make(101, noise=0.1, seed=3)
    x2, y2 = make(101, noise=0.1, seed=3)
    assert x.shape == (101, 2) and x.dtype == np.float32 and y.dtype == np.int64
    assert np.array_equal(x, x2) and np.array_equal(y, y2)
    assert set(y.tolist()) == {0, 1}
    assert not np.array_equal(x, make(101, noise=0.1, seed=4)[0])


def test_moons_without_noise_lie_on_two_half_circles():
    x, y = data.make_moons(50, seed=0)
    np.testing.assert_allclose(np.hypot(*x[y == 0].T), 1.0, rtol=1e-6)
    np.testing.assert_allclose(np.hypot(x[y == 1, 0] - 1, x[y == 1, 1] - 0.5), 1.0, rtol=1e-6)


def test_spirals_have_balanced_classes():
    x, y = data.make_spirals(301, n_classes=4, seed=0)
    assert x.shape == (301, 2) and np.bincount(y).tolist() == [76, 75, 75, 75]
    assert np.abs(x).max() <= 1.0 + 1e-6


def test_digits():
    x, y = data.load_digits()
    assert x.shape == (1797, 64) and x.dtype == np.float32 and 0 <= x.min() and x.max() == 1
    assert np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    images, y2 = data.load_digits(images=True, scale=False)
    assert images.shape == (1797, 8, 8, 1) and images.max() == 16 and np.array_equal(y, y2)
    # the first image is a zero: a ring of ink around an empty middle
    zero = images[0, :, :, 0]
    assert y[0] == 0 and zero[3:5, 3:5].sum() < zero[1:7, 1:7].sum() / 8


def test_train_test_split_and_errors():
    x, y = np.arange(40).reshape(20, 2), np.arange(20)
    x_tr, x_te, y_tr, y_te = data.train_test_split(x, y, test_size=0.25, seed=0)
    assert len(x_te) == 5 and len(x_tr) == 15
    assert sorted(np.concatenate([y_tr, y_te]).tolist()) == list(range(20))
    assert np.array_equal(x_te[:, 0] // 2, y_te)
    with pytest.raises(ValueError, match="different lengths"):
        data.train_test_split(x, y[:3])
    with pytest.raises(ValueError, match="n_samples must be an int >= 2"):
        data.make_moons(1)


def test_iris():
    x, y = data.load_iris()
    assert x.shape == (150, 4) and x.dtype == np.float32 and y.dtype == np.int64
    assert np.bincount(y).tolist() == [50, 50, 50] and (np.diff(y) >= 0).all()
    # the first flower, and the column means of Fisher's data (sepal, then petal, in cm)
    np.testing.assert_allclose(x[0], [5.1, 3.5, 1.4, 0.2], rtol=1e-6)
    np.testing.assert_allclose(x.mean(axis=0), [5.8433, 3.0573, 3.758, 1.1993], atol=1e-4)
    # setosa's petals are shorter than every other flower's: the easy, separable class
    assert x[y == 0, 2].max() < x[y != 0, 2].min()
