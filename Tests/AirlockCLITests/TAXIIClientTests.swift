import AirlockCore
import AirlockTestSupport
import Foundation
import Testing

/// OASIS's own TAXII 2.1 client, taxii2-client 2.3.0 (PyPI), against `airlock serve`: discovery,
/// the API root, collections, add_objects with wait_for_completion, get_status, paging with
/// as_pages, get_object, object_versions, get_manifest, delete_object; anonymous reads of the
/// public collection; a bank's view; refusals. stix2-validator checks the objects as served.
@Suite struct TAXIIClientTests {
    @Test(.enabled(if: TestEnvironment.runsPython, "needs taxii2-client (make test installs it)"))
    func taxii2ClientDrivesEveryEndpoint() async throws {
        let python = try #require(ProcessInfo.processInfo.environment["AIRLOCK_TEST_PYTHON"])
        try await ProgramServerProcess.with { server in
            let bank = try await server.json(
                ["org", "create", "Clearing Bank", "--kind", "infrastructure_operator", "--sector", "banking"], key: server.officeKey)
            guard case .object(let fields) = bank, let bankId = fields["id"]?.stringValue else {
                Issue.record("org create printed no id: \(bank)")
                return
            }
            let bankKey = try await server.signedInUser(organisation: bankId, email: "admin@bank.example")
            let script = server.folder + "/taxii_client_check.py"
            try Self.script.write(toFile: script, atomically: true, encoding: .utf8)
            let result = try await ProgramCLI.runProgram(python, [script, server.url, server.officeKey, bankKey])
            #expect(result.status == 0, "taxii2-client check failed:\n\(result.output.suffix(3000))\n\(result.error.suffix(6000))")
            #expect(result.output.contains("taxii2-client: every endpoint answered as expected"), "\(result.output.suffix(2000))")
        }
    }

    static let script = #"""
        import sys

        import requests
        from stix2validator import ValidationOptions, validate_instance
        from taxii2client.v21 import Collection, Server, as_pages

        url, office_key, bank_key = sys.argv[1:4]
        discovery = url + "/taxii2/"
        TAXII = "application/taxii+json;version=2.1"
        CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"


        def check(condition, message):
            if not condition:
                raise SystemExit("FAILED: " + message)


        def status_of(call):
            try:
                call()
            except requests.HTTPError as error:
                return error.response.status_code
            return 200


        def indicator(number, modified="2026-01-01T00:00:00.000Z"):
            return {
                "type": "indicator", "spec_version": "2.1",
                "id": "indicator--00000000-0000-4000-8000-%012x" % number,
                "created": "2026-01-01T00:00:00.000Z", "modified": modified,
                "name": "Indicator %d" % number, "pattern": "[ipv4-addr:value = '198.51.100.%d']" % (number % 250),
                "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z", "object_marking_refs": [CLEAR],
            }


        # Discovery and the API root.
        server = Server(discovery, user="office", password=office_key)
        check(server.title == "Airlock TAXII 2.1 server", "discovery title: %r" % server.title)
        check(len(server.api_roots) == 1 and server.default is not None, "api_roots and default")
        root = server.default
        check(root.url == url + "/taxii2/airlock/", "api root url %s" % root.url)
        check(root.title == "Airlock" and root.versions == [TAXII] and root.max_content_length > 0, "api root")

        # Collections.
        collections = {c.alias: c for c in root.collections}
        check({"community", "public", "sector-banking"} <= set(collections), "office collections: %s" % sorted(collections))
        public = collections["public"]
        check(public.can_read and public.can_write, "office writes public")
        check(public.media_types == ["application/stix+json;version=2.1"], "media types")
        one = Collection(public.url, user="office", password=office_key)
        check(one.id == public.id and one.title == public.title, "get a collection")

        # Add objects, waiting for completion; the status again through the API root.
        objects = [indicator(n) for n in range(1, 251)]
        status = public.add_objects({"objects": objects}, wait_for_completion=True, poll_interval=0.1, timeout=10)
        check(status.status == "complete" and status.success_count == 250 and status.failure_count == 0, "add_objects status")
        again = root.get_status(status.id)
        check(again.id == status.id and again.total_count == 250 and again.success_count == 250, "get_status")
        duplicate = public.add_objects({"objects": objects[:2]}, wait_for_completion=True, poll_interval=0.1, timeout=10)
        check(duplicate.failure_count == 2 and duplicate.success_count == 0, "duplicates are failures")

        # Paging with as_pages: objects and manifest, 100 a page.
        ids, pages = [], 0
        for envelope in as_pages(public.get_objects, per_request=100):
            pages += 1
            ids += [o["id"] for o in envelope.get("objects", [])]
            for o in envelope.get("objects", []):
                result = validate_instance(o, ValidationOptions(version="2.1"))
                check(result.is_valid, "stix2-validator: %s" % [str(e) for e in result.errors])
        check(pages == 3 and len(ids) == 250 and len(set(ids)) == 250, "as_pages get_objects: %d pages, %d ids" % (pages, len(ids)))
        manifest = []
        for page in as_pages(public.get_manifest, per_request=100):
            manifest += page.get("objects", [])
        check([m["id"] for m in manifest] == ids, "as_pages get_manifest")
        check(all(m["media_type"] == "application/stix+json;version=2.1" for m in manifest), "manifest media types")

        # Filters.
        some = public.get_objects(limit=5, type="indicator")
        check(len(some["objects"]) == 5 and some["more"] and some.get("next"), "get_objects limit and type")
        check("objects" not in public.get_objects(type="malware"), "match[type] filters")
        two = public.get_objects(id=[ids[3], ids[4]])
        check([o["id"] for o in two["objects"]] == [ids[3], ids[4]], "match[id] list")
        last_added = manifest[-1]["date_added"]
        check("objects" not in public.get_objects(added_after=last_added), "added_after the last date_added")

        # One object, a second version, versions.
        first = objects[0]
        got = public.get_object(first["id"])
        check([o["id"] for o in got["objects"]] == [first["id"]], "get_object")
        public.add_objects({"objects": [indicator(1, modified="2026-03-01T00:00:00.000Z")]}, poll_interval=0.1, timeout=10)
        versions = public.object_versions(first["id"])
        check(versions["versions"] == ["2026-01-01T00:00:00.000Z", "2026-03-01T00:00:00.000Z"], "object_versions: %r" % versions)
        check(public.get_object(first["id"])["objects"][0]["modified"] == "2026-03-01T00:00:00.000Z", "latest version by default")
        check(len(public.get_object(first["id"], version="all")["objects"]) == 2, "version=all")
        polled = public.get_objects(added_after=last_added)
        check([o["id"] for o in polled["objects"]] == [first["id"]], "polling with added_after finds the new version")

        # Delete.
        public.delete_object(first["id"], version="all")
        check(status_of(lambda: public.get_object(first["id"])) == 404, "deleted object is gone")
        check(status_of(lambda: public.delete_object(first["id"])) == 404, "deleting it again is 404")

        # Anonymous: the public collection only.
        anonymous = Server(discovery).default
        check([c.alias for c in anonymous.collections] == ["public"], "anonymous collections")
        anonymous_public = anonymous.collections[0]
        check(not anonymous_public.can_write, "anonymous does not write")
        check(len(anonymous_public.get_objects(limit=1000)["objects"]) == 249, "anonymous reads the public objects")

        # The bank: the community and its sector; it does not write them.
        bank = Server(discovery, user="bank", password=bank_key).default
        bank_collections = {c.alias: c for c in bank.collections}
        check(set(bank_collections) == {"community", "sector-banking", "public"}, "bank collections: %s" % sorted(bank_collections))
        check(not bank_collections["public"].can_write and not bank_collections["community"].can_write, "bank writes nothing shared")
        refused = requests.post(
            public.objects_url, auth=("bank", bank_key), data='{"objects":[]}',
            headers={"Accept": TAXII, "Content-Type": TAXII})
        check(refused.status_code == 403 and refused.headers["Content-Type"] == TAXII, "bank POST: %d" % refused.status_code)
        check(status_of(lambda: bank.get_status(status.id)) == 404, "another organisation's status is 404")

        # A Content-Length over max_content_length is refused before the body is read; a wrong type is 415.
        import http.client
        from urllib.parse import urlparse
        target = urlparse(public.objects_url)
        connection = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
        connection.putrequest("POST", target.path)
        for name, value in [("Accept", TAXII), ("Content-Type", TAXII), ("Content-Length", str(root.max_content_length + 1)),
                            ("Authorization", requests.auth._basic_auth_str("office", office_key))]:
            connection.putheader(name, value)
        connection.endheaders()
        too_large = connection.getresponse()
        check(too_large.status == 413 and too_large.getheader("Content-Type") == TAXII, "Content-Length over the maximum: %d" % too_large.status)
        connection.close()
        wrong_type = requests.post(
            public.objects_url, auth=("office", office_key), data='{"objects":[]}',
            headers={"Accept": TAXII, "Content-Type": "application/json"})
        check(wrong_type.status_code == 415, "wrong Content-Type: %d" % wrong_type.status_code)

        # Wrong credentials.
        check(status_of(lambda: Server(discovery, user="x", password="alk_wrong").title) == 401, "wrong key is 401")
        wrong = requests.get(discovery, auth=("x", "alk_wrong"), headers={"Accept": TAXII})
        check(wrong.headers.get("WWW-Authenticate") == 'Basic realm="airlock"', "WWW-Authenticate")

        print("taxii2-client: every endpoint answered as expected")
        """#
}
