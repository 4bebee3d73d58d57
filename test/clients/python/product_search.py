"""Vision Product Search against Metapixel with Google's discovery client
(googleapiclient, Debian's python3-googleapi): create a product set, a product and its
reference image, add the product to the set, then find it with images.annotate.

    METAPIXEL_URL=http://127.0.0.1:8080 METAPIXEL_API_KEY=my-key \
    REFERENCE_URI=gs://catalog/shoe.jpg QUERY_IMAGE=photo.jpg python3 product_search.py
"""
import base64
import os

from googleapiclient.discovery import build

url = os.environ["METAPIXEL_URL"]
vision = build(
    "vision",
    "v1",
    discoveryServiceUrl=url + "/discovery/v1/apis/{api}/{apiVersion}/rest",
    developerKey=os.environ["METAPIXEL_API_KEY"],  # sent as ?key=; no Google credentials needed
    cache_discovery=False,
)
locations = vision.projects().locations()
parent = "projects/my-project/locations/us-west1"
whole = {"normalizedVertices": [{"x": 0, "y": 0}, {"x": 1, "y": 0}, {"x": 1, "y": 1}, {"x": 0, "y": 1}]}

product_set = locations.productSets().create(
    parent=parent, productSetId="shoes", body={"displayName": "Shoes"}
).execute()
product = locations.products().create(
    parent=parent,
    productId="shoe-1",
    body={"displayName": "Red shoe", "productCategory": "general-v1", "productLabels": [{"key": "color", "value": "red"}]},
).execute()
locations.products().referenceImages().create(
    parent=product["name"],
    referenceImageId="front",
    body={"uri": os.environ["REFERENCE_URI"], "boundingPolys": [whole]},
).execute()
locations.productSets().addProduct(name=product_set["name"], body={"product": product["name"]}).execute()

with open(os.environ["QUERY_IMAGE"], "rb") as f:
    content = base64.b64encode(f.read()).decode("ascii")
response = vision.images().annotate(
    body={
        "requests": [
            {
                "image": {"content": content},
                "features": [{"type": "PRODUCT_SEARCH"}],
                "imageContext": {
                    "productSearchParams": {
                        "productSet": product_set["name"],
                        "productCategories": ["general-v1"],
                        "boundingPoly": whole,
                        "filter": "color = red",
                    }
                },
            }
        ]
    }
).execute()
results = response["responses"][0]["productSearchResults"]["results"]
if not results or results[0]["product"]["name"] != product["name"]:
    raise SystemExit("expected %s first, got %r" % (product["name"], results))
print("found: %s (score %.2f)" % (results[0]["product"]["name"], results[0]["score"]))
