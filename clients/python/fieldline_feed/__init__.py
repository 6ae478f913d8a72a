"""Fieldline's feed for training jobs: ask a running `fieldline serve` for images and read them as a PyTorch
IterableDataset, each with its class label and generation metadata, exactly once (read_committed).

    from fieldline_feed import FieldlineFeed
    feed = FieldlineFeed("broker:9092", "http://registry:8081", model="fmnist-pfgmpp-cond",
                         classes={"names": ["all"]}, count=1000, seed=7)
    for image, label, meta in torch.utils.data.DataLoader(feed, batch_size=64):
        ...

See README.md, "Consuming the feed from a training job".
"""
from .feed import FieldlineFeed, submit  # noqa: F401
from .png import read_png  # noqa: F401
