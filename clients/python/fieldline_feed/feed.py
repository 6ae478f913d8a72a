"""A PyTorch IterableDataset over Fieldline's images topic."""
import time
import uuid

import avro.schema
import torch
from confluent_kafka import Consumer, Producer

from . import wire
from .png import read_png

FINAL_STATES = ("DONE", "FAILED", "REJECTED", "EXPIRED", "CANCELLED")


def submit(bootstrap, registry, model, count, seed=0, classes=None, guidance=None, request_id=None,
           topic_prefix="fieldline.", kafka=None, schema_dir=None):
    """Sends one GenerationRequest (registering its schema under <prefix>requests-value; the key is the request id,
    as the pipeline requires) and returns the request id.

    classes: None (no class), {"names": [...]} (cycled; ["all"] = every class) or {"counts": {"sandal": 100}}.
    guidance: None (the model's) or a weight in [0, 20].
    """
    registry = registry if isinstance(registry, wire.Registry) else wire.Registry(registry)
    schema_json = wire.request_schema(schema_dir)
    schema = avro.schema.parse(schema_json)
    schema_id = registry.register(topic_prefix + "requests-value", schema_json)
    request_id = request_id or str(uuid.uuid4())
    sampler = None
    if guidance is not None:
        sampler = {"solver": "", "steps": None, "rtol": None, "atol": None, "guidance": float(guidance)}
    record = {"requestId": request_id, "model": model, "modelVersion": None, "count": int(count), "seed": int(seed),
              "sampler": sampler, "priority": 0, "deadlineEpochMs": None, "clientId": None, "labels": {},
              "classes": None if classes is None else {"names": list(classes.get("names", [])),
                                                         "counts": dict(classes.get("counts", {}))}}
    producer = Producer(dict({"bootstrap.servers": bootstrap, "enable.idempotence": True}, **(kafka or {})))
    producer.produce(topic_prefix + "requests", key=request_id.encode("utf-8"),
                     value=wire.encode(schema_id, schema, record))
    if producer.flush(30) != 0:
        raise RuntimeError("the request was not acknowledged by the broker within 30 s")
    return request_id


class FieldlineFeed(torch.utils.data.IterableDataset):
    """Images of one request (submitted by the feed, or followed by id) as (image, label, metadata) triples.

    image: float32 tensor [channels, height, width] in [-1, 1] (pixel / 127.5 - 1, the project's convention);
    label: the class index the image was drawn from, -1 for none; metadata: requestId, index, seed, model,
    modelVersion, sampler, className ("" for none), nfe. Images arrive in completion order, each exactly once
    (read_committed), and the iteration ends when all `count` images are read. A request that ends REJECTED, FAILED,
    EXPIRED or CANCELLED raises RuntimeError with its reason. The request is sent once, when the feed is created;
    each iteration (epoch) reads its images again from the topic. With DataLoader workers, worker w yields the images
    whose index % workers == w.
    """

    def __init__(self, bootstrap, registry, model=None, count=None, seed=0, classes=None, guidance=None,
                 request_id=None, topic_prefix="fieldline.", timeout_s=1800, kafka=None, schema_dir=None):
        super().__init__()
        if model is None and request_id is None:
            raise ValueError("give a model (to submit a request) or the request_id of one to follow")
        if model is not None and (count is None or count < 1):
            raise ValueError("count must be a positive number of images")
        self.bootstrap = bootstrap
        self.registry_url = registry
        self.model = model
        self.count = count
        self.seed = seed
        self.classes = classes
        self.guidance = guidance
        self.request_id = request_id or str(uuid.uuid4())
        self.prefix = topic_prefix
        self.timeout_s = timeout_s
        self.kafka = kafka or {}
        self.schema_dir = schema_dir
        if model is not None:
            # Sent once, here in the creating process: DataLoader workers (re-created each epoch unless persistent)
            # only read, so the request is never sent twice.
            submit(bootstrap, registry, model, count, seed, classes, guidance, self.request_id, topic_prefix,
                   self.kafka, schema_dir)

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        workers, worker = (1, 0) if info is None else (info.num_workers, info.id)
        registry = wire.Registry(self.registry_url)
        consumer = Consumer(dict({"bootstrap.servers": self.bootstrap, "group.id": "fieldline-feed-" + str(uuid.uuid4()),
                                  "auto.offset.reset": "earliest", "isolation.level": "read_committed",
                                  "enable.auto.commit": False}, **self.kafka))
        try:
            consumer.subscribe([self.prefix + "images", self.prefix + "status"])
            yield from self._read(consumer, registry, workers, worker)
        finally:
            consumer.close()

    def _read(self, consumer, registry, workers, worker):
        seen = set()
        total = self.count
        deadline = time.monotonic() + self.timeout_s
        while total is None or len(seen) < total:
            if time.monotonic() > deadline:
                raise TimeoutError("request %s: %d of %s images after %d s" % (self.request_id, len(seen), total,
                                                                             self.timeout_s))
            message = consumer.poll(0.5)
            if message is None:
                continue
            if message.error():
                raise RuntimeError("Kafka: %s" % message.error())
            if message.key() is None or message.key().decode("utf-8") != self.request_id:
                continue
            record = wire.decode(registry, message.value())
            if message.topic() == self.prefix + "status":
                total = record["total"] if record["total"] else total
                if record["state"] in FINAL_STATES and record["state"] != "DONE":
                    raise RuntimeError("request %s ended %s: %s" % (self.request_id, record["state"],
                                                                      record.get("reason")))
                continue
            index = record["index"]
            if index in seen:
                continue  # read_committed gives each image once; this guards re-deliveries within one read
            seen.add(index)
            if index % workers != worker:
                continue
            pixels, width, height, channels, _ = read_png(record["png"])
            image = torch.frombuffer(bytearray(pixels), dtype=torch.uint8).to(torch.float32)
            image = image.view(height, width, channels).permute(2, 0, 1).contiguous() / 127.5 - 1.0
            meta = {"requestId": record["requestId"], "index": index, "seed": record["seed"],
                    "model": record["model"], "modelVersion": record["modelVersion"], "sampler": record["sampler"],
                    "className": record.get("className") or "", "nfe": record["nfe"]}
            yield image, record.get("classIndex", -1), meta
