"""boto3's generate_presigned_post (SigV4 and SigV2 forms) posted with urllib to eddy under
--auth verify (run by test_s3_boto3_post.sh): the upload lands with its fields, a redirect and a
201 answer, and a form outside its policy is refused as S3 refuses it."""
import sys
import urllib.error
import urllib.request
import uuid
import xml.etree.ElementTree as ET

import boto3
from botocore.config import Config

url = sys.argv[1]


def client(signature_version):
    return boto3.client("s3", endpoint_url=url, region_name="us-east-1",
                        config=Config(signature_version=signature_version, s3={"addressing_style": "path"},
                                      retries={"max_attempts": 1}))


s3 = client("s3v4")


def check(cond, msg):
    if not cond:
        raise SystemExit("FAIL: " + msg)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def post_form(post, data, filename="photo.png"):
    """Posts generate_presigned_post's url and fields with the file last; (status, headers, body)."""
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in post["fields"].items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
                 f'Content-Type: application/octet-stream\r\n\r\n'.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    req = urllib.request.Request(post["url"], data=b"".join(parts), method="POST",
                                 headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    try:
        with urllib.request.build_opener(NoRedirect).open(req) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


b = "post-uploads"
s3.create_bucket(Bucket=b)

# SigV4 form: key with ${filename}, metadata and a content type fixed by the policy.
post = s3.generate_presigned_post(
    b, "uploads/${filename}",
    Fields={"Content-Type": "image/png", "x-amz-meta-origin": "browser"},
    Conditions=[{"Content-Type": "image/png"}, {"x-amz-meta-origin": "browser"}, ["content-length-range", 1, 1024]],
    ExpiresIn=600)
check("x-amz-signature" in post["fields"], f"a SigV4 form {post['fields']}")
status, headers, body = post_form(post, b"\x89PNG...")
check(status == 204, f"SigV4 form answered {status} {body!r}")
got = s3.get_object(Bucket=b, Key="uploads/photo.png")
check(got["Body"].read() == b"\x89PNG...", "the file is the object")
check(got["ContentType"] == "image/png" and got["Metadata"] == {"origin": "browser"}, f"fields stored {got}")
check(headers["ETag"] == got["ETag"], "the ETag answered is the object's")

# The same form with a file larger than its content-length-range.
status, _, body = post_form(post, b"x" * 2000)
check(status == 400 and ET.fromstring(body).findtext("Code") == "EntityTooLarge", f"too large: {status} {body!r}")

# A field the policy does not name.
extra = dict(post, fields=dict(post["fields"], **{"x-amz-meta-more": "1"}))
status, _, body = post_form(extra, b"data")
check(status == 403 and ET.fromstring(body).findtext("Message") ==
      "Invalid according to Policy: Extra input fields: x-amz-meta-more", f"extra field: {status} {body!r}")

# SigV2 form with success_action_status 201 and one with a redirect.
v2 = client("s3")
post = v2.generate_presigned_post(b, "v2.txt", Fields={"success_action_status": "201"},
                                  Conditions=[{"success_action_status": "201"}])
check("signature" in post["fields"] and "AWSAccessKeyId" in post["fields"], f"a SigV2 form {post['fields']}")
status, _, body = post_form(post, b"two")
check(status == 201, f"SigV2 form answered {status} {body!r}")
doc = ET.fromstring(body)
check(doc.tag == "PostResponse" and doc.findtext("Key") == "v2.txt" and doc.findtext("Bucket") == b, f"201 body {body!r}")
check(s3.get_object(Bucket=b, Key="v2.txt")["Body"].read() == b"two", "SigV2 upload stored")

post = s3.generate_presigned_post(b, "r.txt", Fields={"success_action_redirect": "http://example.com/ok"},
                                  Conditions=[{"success_action_redirect": "http://example.com/ok"}])
status, headers, _ = post_form(post, b"r")
check(status == 303 and headers["Location"].startswith("http://example.com/ok?bucket=post-uploads&key=r.txt&etag=%22"),
      f"redirect {status} {headers['Location']}")

# A form signed with a wrong secret.
bad = boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="test",
                   aws_secret_access_key="wrong", config=Config(s3={"addressing_style": "path"}))
status, _, body = post_form(bad.generate_presigned_post(b, "nope.txt"), b"x")
check(status == 403 and ET.fromstring(body).findtext("Code") == "SignatureDoesNotMatch", f"bad secret {status} {body!r}")
print("ok: boto3 presigned POST forms")
