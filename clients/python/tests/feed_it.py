"""Integration check of the Python feed against a real broker, a real registry and a running `fieldline serve`
(started by it-tests' PythonFeedIT, which passes the addresses). Exits 0 when every check holds."""
import argparse
import sys
import os

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import torch  # noqa: E402
from fieldline_feed import FieldlineFeed  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--registry", required=True)
    p.add_argument("--prefix", required=True)
    p.add_argument("--model", required=True)
    a = p.parse_args()

    # Per-class counts: images 0-2 of class "0", 3-4 of class "2" (class-index order), guidance 2.
    feed = FieldlineFeed(a.bootstrap, a.registry, model=a.model, count=5, seed=11,
                         classes={"counts": {"2": 2, "0": 3}}, guidance=2, topic_prefix=a.prefix, timeout_s=240)
    seen = {}
    for images, labels, meta in torch.utils.data.DataLoader(feed, batch_size=2):
        assert images.dtype == torch.float32 and images.shape[1:] == (1, 6, 6), images.shape
        assert float(images.min()) >= -1.0 and float(images.max()) <= 1.0
        for k in range(len(labels)):
            seen[int(meta["index"][k])] = (int(labels[k]), meta["className"][k], meta["sampler"][k])
    assert sorted(seen) == [0, 1, 2, 3, 4], seen
    for index, (label, name, sampler) in seen.items():
        expected = 0 if index < 3 else 2
        assert label == expected and name == str(expected), (index, label, name)
        assert "guidance=2" in sampler, sampler
    # A second epoch reads the same request again, without submitting it twice.
    again = sorted(int(m["index"]) for _, _, m in feed)
    assert again == [0, 1, 2, 3, 4], again

    # A bad request ends the iteration with the pipeline's reason.
    bad = FieldlineFeed(a.bootstrap, a.registry, model=a.model, count=2, classes={"names": ["no-such-class"]},
                        topic_prefix=a.prefix, timeout_s=120)
    try:
        list(bad)
        raise AssertionError("a rejected request must raise")
    except RuntimeError as e:
        assert "REJECTED" in str(e) and "no-such-class" in str(e), e
    print("python feed: all checks passed")


if __name__ == "__main__":
    main()
