#!/usr/bin/env python3
"""Calls a running signaalhub with a *standard* gRPC client (Python grpcio), knowing nothing of
the contract beforehand: it lists the services by server reflection, loads the descriptors from
the hub, and calls DirectoryService.WhoAmI with a dev kit organisation's certificate and token.

    pip install grpcio grpcio-reflection protobuf
    python3 tests/grpc-clients/whoami.py dev-kit school [localhost:50051]
"""
import sys
from pathlib import Path

import grpc
from google.protobuf import descriptor_pool, json_format
from google.protobuf.message_factory import GetMessageClass
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)


def main() -> int:
    kit = Path(sys.argv[1] if len(sys.argv) > 1 else "dev-kit")
    sector = sys.argv[2] if len(sys.argv) > 2 else "school"
    target = sys.argv[3] if len(sys.argv) > 3 else "localhost:50051"
    org = kit / "orgs" / sector
    creds = grpc.ssl_channel_credentials(
        root_certificates=(kit / "ca.pem").read_bytes(),
        private_key=(org / "key.pem").read_bytes(),
        certificate_chain=(org / "cert.pem").read_bytes(),
    )
    token = (org / "token.jwt").read_text().strip()
    metadata = (("authorization", f"Bearer {token}"),)
    with grpc.secure_channel(target, creds) as channel:
        db = ProtoReflectionDescriptorDatabase(channel)
        services = sorted(db.get_services())
        print("services:", ", ".join(services))
        pool = descriptor_pool.DescriptorPool(db)
        svc = pool.FindServiceByName("signaalhub.v1.DirectoryService")
        method = svc.FindMethodByName("WhoAmI")
        req_cls = GetMessageClass(method.input_type)
        resp_cls = GetMessageClass(method.output_type)
        call = channel.unary_unary(
            "/signaalhub.v1.DirectoryService/WhoAmI",
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=resp_cls.FromString,
        )
        resp = call(req_cls(), metadata=metadata, timeout=10)
        print(json_format.MessageToJson(resp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
