// Command productsearch runs the core Vision Product Search flow against Metapixel over
// gRPC with Google's Go client (cloud.google.com/go/vision/apiv1): create a product set, a
// product and its reference image, add the product to the set, list, search, delete.
//
//	METAPIXEL_GRPC=127.0.0.1:8081 METAPIXEL_API_KEY=my-key \
//	REFERENCE_URI=gs://catalog/shoe.jpg QUERY_IMAGE=photo.jpg go run .
package main

import (
	"context"
	"fmt"
	"log"
	"os"

	vision "cloud.google.com/go/vision/apiv1"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
	visionpb "google.golang.org/genproto/googleapis/cloud/vision/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

func main() {
	// A plaintext channel carries no credentials of its own: the API key goes in metadata.
	ctx := metadata.AppendToOutgoingContext(context.Background(), "x-goog-api-key", os.Getenv("METAPIXEL_API_KEY"))
	opts := []option.ClientOption{
		option.WithEndpoint(os.Getenv("METAPIXEL_GRPC")),
		option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithInsecure()),
	}
	catalog, err := vision.NewProductSearchClient(ctx, opts...)
	check(err)
	defer catalog.Close()
	annotator, err := vision.NewImageAnnotatorClient(ctx, opts...)
	check(err)
	defer annotator.Close()

	parent := "projects/my-project/locations/us-west1"
	whole := &visionpb.BoundingPoly{NormalizedVertices: []*visionpb.NormalizedVertex{{X: 0, Y: 0}, {X: 1, Y: 0}, {X: 1, Y: 1}, {X: 0, Y: 1}}}

	set, err := catalog.CreateProductSet(ctx, &visionpb.CreateProductSetRequest{
		Parent: parent, ProductSetId: "shoes", ProductSet: &visionpb.ProductSet{DisplayName: "Shoes"},
	})
	check(err)
	product, err := catalog.CreateProduct(ctx, &visionpb.CreateProductRequest{
		Parent: parent, ProductId: "shoe-1",
		Product: &visionpb.Product{
			DisplayName: "Red shoe", ProductCategory: "general-v1",
			ProductLabels: []*visionpb.Product_KeyValue{{Key: "color", Value: "red"}},
		},
	})
	check(err)
	_, err = catalog.CreateReferenceImage(ctx, &visionpb.CreateReferenceImageRequest{
		Parent: product.Name, ReferenceImageId: "front",
		ReferenceImage: &visionpb.ReferenceImage{Uri: os.Getenv("REFERENCE_URI"), BoundingPolys: []*visionpb.BoundingPoly{whole}},
	})
	check(err)
	check(catalog.AddProductToProductSet(ctx, &visionpb.AddProductToProductSetRequest{Name: set.Name, Product: product.Name}))

	it := catalog.ListProductsInProductSet(ctx, &visionpb.ListProductsInProductSetRequest{Name: set.Name})
	for {
		p, err := it.Next()
		if err == iterator.Done {
			break
		}
		check(err)
		fmt.Println("in set:", p.Name)
	}

	content, err := os.ReadFile(os.Getenv("QUERY_IMAGE"))
	check(err)
	results, err := annotator.ProductSearch(ctx, &visionpb.Image{Content: content}, &visionpb.ImageContext{
		ProductSearchParams: &visionpb.ProductSearchParams{
			ProductSet: set.Name, ProductCategories: []string{"general-v1"}, BoundingPoly: whole, Filter: "color = red",
		},
	})
	check(err)
	if len(results.Results) == 0 || results.Results[0].Product.Name != product.Name {
		log.Fatalf("expected %s first, got %v", product.Name, results.Results)
	}
	fmt.Printf("found: %s (score %.2f)\n", results.Results[0].Product.Name, results.Results[0].Score)

	check(catalog.DeleteProduct(ctx, &visionpb.DeleteProductRequest{Name: product.Name}))
	check(catalog.DeleteProductSet(ctx, &visionpb.DeleteProductSetRequest{Name: set.Name}))
	fmt.Println("deleted:", product.Name, set.Name)
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
