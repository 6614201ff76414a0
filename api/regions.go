package api

import "strings"

// regions are the AWS regions and their partitions, as aws-sdk-go-v2 lists them
// (internal/endpoints/awsrulesfn/partitions.json of v1.47.7). A request signed for
// any other region is refused: resources live in real region names only.
var regions = map[string]string{
	"af-south-1":      "aws",
	"ap-east-1":       "aws",
	"ap-east-2":       "aws",
	"ap-northeast-1":  "aws",
	"ap-northeast-2":  "aws",
	"ap-northeast-3":  "aws",
	"ap-south-1":      "aws",
	"ap-south-2":      "aws",
	"ap-southeast-1":  "aws",
	"ap-southeast-2":  "aws",
	"ap-southeast-3":  "aws",
	"ap-southeast-4":  "aws",
	"ap-southeast-5":  "aws",
	"ap-southeast-6":  "aws",
	"ap-southeast-7":  "aws",
	"ca-central-1":    "aws",
	"ca-west-1":       "aws",
	"cn-north-1":      "aws-cn",
	"cn-northwest-1":  "aws-cn",
	"eu-central-1":    "aws",
	"eu-central-2":    "aws",
	"eu-isoe-west-1":  "aws-iso-e",
	"eu-north-1":      "aws",
	"eu-south-1":      "aws",
	"eu-south-2":      "aws",
	"eu-west-1":       "aws",
	"eu-west-2":       "aws",
	"eu-west-3":       "aws",
	"eusc-de-east-1":  "aws-eusc",
	"il-central-1":    "aws",
	"me-central-1":    "aws",
	"me-south-1":      "aws",
	"mx-central-1":    "aws",
	"sa-east-1":       "aws",
	"us-east-1":       "aws",
	"us-east-2":       "aws",
	"us-gov-east-1":   "aws-us-gov",
	"us-gov-west-1":   "aws-us-gov",
	"us-iso-east-1":   "aws-iso",
	"us-iso-west-1":   "aws-iso",
	"us-isob-east-1":  "aws-iso-b",
	"us-isob-west-1":  "aws-iso-b",
	"us-isof-east-1":  "aws-iso-f",
	"us-isof-south-1": "aws-iso-f",
	"us-west-1":       "aws",
	"us-west-2":       "aws",
}

// ValidRegion reports whether region is an AWS region name.
func ValidRegion(region string) bool { _, ok := regions[region]; return ok }

// PartitionOf is the AWS partition of a region ("aws", "aws-cn", "aws-us-gov",
// "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc").
func PartitionOf(region string) string {
	if p, ok := regions[region]; ok {
		return p
	}
	// A region newer than the table: the partitions' region patterns.
	for _, p := range [...]struct{ prefix, partition string }{
		{"us-gov-", "aws-us-gov"}, {"us-isob-", "aws-iso-b"}, {"us-isof-", "aws-iso-f"}, {"us-iso-", "aws-iso"},
		{"eu-isoe-", "aws-iso-e"}, {"eusc-", "aws-eusc"}, {"cn-", "aws-cn"},
	} {
		if strings.HasPrefix(region, p.prefix) {
			return p.partition
		}
	}
	return "aws"
}
