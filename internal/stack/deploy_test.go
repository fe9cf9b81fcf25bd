package stack

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	cfndynamodb "github.com/awslabs/goformation/v7/cloudformation/dynamodb"

	"github.com/usersapi/usersapi/internal/emulator/emulatortest"
)

func TestMain(m *testing.M) { emulatortest.Main(m) }

// TestDeployAddsIndexes: a table kept from an earlier run (make run --data)
// gets the indexes the template has added since, as a stack update adds
// them; without them a new query (the export's ByUser) would fail.
func TestDeployAddsIndexes(t *testing.T) {
	db := emulatortest.DynamoDBClient(t)
	s := loadTemplate(t, "dev")
	name := s.Resources["RequestsTable"].Name
	// The requests table as an earlier template made it: its key, no index.
	_, err := db.CreateTable(t.Context(), &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("requestId"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("requestId"), KeyType: ddbtypes.KeyTypeHash}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeployTables(t.Context(), db); err != nil {
		t.Fatal(err)
	}
	d, err := db.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	var have []string
	for _, g := range d.Table.GlobalSecondaryIndexes {
		have = append(have, aws.ToString(g.IndexName))
	}
	var want cfndynamodb.Table
	if err := s.decodeResource("RequestsTable", &want); err != nil {
		t.Fatal(err)
	}
	if len(want.GlobalSecondaryIndexes) == 0 {
		t.Fatal("the template's RequestsTable has no index to add: the test proves nothing")
	}
	for _, g := range want.GlobalSecondaryIndexes {
		if !slices.Contains(have, g.IndexName) {
			t.Errorf("index %s not added to the kept table (it has %v)", g.IndexName, have)
		}
	}
}
