// Package stack reads template.yaml as the local cloud deploys it: every
// intrinsic function resolved against local names, ARNs and URLs, with
// goformation's typed model of each resource.
//
// goformation resolves Ref only against parameters and leaves Fn::GetAtt
// unresolved; the handlers here stand in for CloudFormation itself, which
// knows the physical ids of the stack's resources.
package stack

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/awslabs/goformation/v7/intrinsics"
	"gopkg.in/yaml.v3"
)

// Local pseudo parameters.
const (
	Region    = "us-east-1"
	Account   = "000000000000"
	StackName = "usersapi-local"
)

// Resource is what CloudFormation knows of a deployed resource.
type Resource struct {
	Type string
	Name string            // physical name
	Ref  string            // what Ref returns
	Attr map[string]string // what Fn::GetAtt returns, by attribute ("Arn", "StreamArn", "QueueUrl"...)
}

// Stack is a template with its resources' physical identities.
type Stack struct {
	path      string
	params    map[string]any
	Resources map[string]*Resource

	defaults map[string]any             // the template's parameter defaults (lists split)
	globals  map[string]map[string]any  // the template's Globals section, resolved
	props    map[string]json.RawMessage // each resource's Properties, resolved
	types    map[string]string          // each resource's Type
}

// Load reads the template at path with the given parameter values (others
// take their defaults) and names every resource as the local cloud does: by
// its explicit name property, else by its logical id (FIFO queues end in .fifo).
func Load(path string, params map[string]any) (*Stack, error) {
	s := &Stack{path: path, params: params, Resources: map[string]*Resource{}}
	// First pass: resources are known only by their logical ids.
	if err := s.Resolve(); err != nil {
		return nil, err
	}
	for id, typ := range s.types {
		props := s.properties(id)
		res := &Resource{Type: typ, Name: explicitName(props, typ)}
		if res.Name == "" {
			res.Name = id
			if fifo, _ := props["FifoQueue"].(bool); typ == "AWS::SQS::Queue" && fifo {
				res.Name += ".fifo"
			}
		}
		res.Ref, res.Attr = res.Name, map[string]string{}
		service, kind := arnParts(typ)
		switch typ {
		case "AWS::DynamoDB::Table":
			res.Attr["Arn"] = fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", Region, Account, res.Name)
		case "AWS::SQS::Queue":
			res.Attr["Arn"] = fmt.Sprintf("arn:aws:sqs:%s:%s:%s", Region, Account, res.Name)
			res.Attr["QueueName"] = res.Name
		case "AWS::Serverless::Function", "AWS::Lambda::Function":
			res.Attr["Arn"] = fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", Region, Account, res.Name)
		case "AWS::Events::EventBus":
			res.Attr["Arn"] = fmt.Sprintf("arn:aws:events:%s:%s:event-bus/%s", Region, Account, res.Name)
		case "AWS::CloudWatch::Alarm":
			res.Attr["Arn"] = fmt.Sprintf("arn:aws:cloudwatch:%s:%s:alarm:%s", Region, Account, res.Name)
		case "AWS::SecretsManager::Secret":
			res.Ref = fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s", Region, Account, res.Name)
			res.Attr["Arn"] = res.Ref
		default:
			res.Attr["Arn"] = fmt.Sprintf("arn:aws:%s:%s:%s:%s%s", service, Region, Account, kind, res.Name)
		}
		s.Resources[id] = res
	}
	s.addAliases()
	return s, s.Resolve()
}

// addAliases adds the alias that SAM makes of each function with an
// AutoPublishAlias (its own, or the Globals'): the resource <id>Alias<name>
// and the reference <id>.Alias, both to the function's ARN qualified by the
// alias, as on AWS. Locally an alias invokes the function itself.
func (s *Stack) addAliases() {
	global, _ := s.globals["Function"]["AutoPublishAlias"].(string)
	for _, id := range s.IDs("AWS::Serverless::Function") {
		alias := global
		if a, ok := s.properties(id)["AutoPublishAlias"].(string); ok {
			alias = a
		}
		fn := s.Resources[id]
		if alias == "" || fn == nil {
			continue
		}
		arn := fn.Attr["Arn"] + ":" + alias
		res := &Resource{Type: "AWS::Lambda::Alias", Name: fn.Name, Ref: arn, Attr: map[string]string{"Arn": arn}}
		s.Resources[id+"Alias"+alias] = res
		s.Resources[id+".Alias"] = res
	}
}

// Resolve parses the template again with the current Resources, for callers
// that learned more of them (a queue's URL, a table's stream ARN).
func (s *Stack) Resolve() error {
	data, err := os.ReadFile(s.path)
	if err != nil {
		return err
	}
	if data, err = keepConditions(data); err != nil {
		return fmt.Errorf("template %s: %w", s.path, err)
	}
	out, err := intrinsics.ProcessYAML(data, &intrinsics.ProcessorOptions{
		ParameterOverrides: s.params,
		EvaluateConditions: true,
		IntrinsicHandlerOverrides: map[string]intrinsics.IntrinsicHandler{
			"Ref":        s.ref,
			"Fn::GetAtt": s.getAtt,
			"Fn::Sub":    s.sub,
		},
	})
	if err != nil {
		return fmt.Errorf("template %s: %w", s.path, err)
	}
	var raw struct {
		Parameters map[string]struct {
			Type    string
			Default any
		}
		Conditions map[string]bool
		Globals    map[string]map[string]any
		Resources  map[string]json.RawMessage
	}
	if err := json.Unmarshal(out, &raw); err != nil {
		return fmt.Errorf("template %s: %w", s.path, err)
	}
	s.globals = raw.Globals
	s.defaults = map[string]any{}
	for name, p := range raw.Parameters {
		if d, ok := p.Default.(string); ok && p.Type == "CommaDelimitedList" {
			var list []any
			for _, v := range strings.Split(d, ",") {
				list = append(list, strings.TrimSpace(v))
			}
			s.defaults[name] = list
			continue
		}
		s.defaults[name] = p.Default
	}
	s.props = map[string]json.RawMessage{}
	s.types = map[string]string{}
	for id, b := range raw.Resources {
		var r struct {
			Type       string
			Properties json.RawMessage
			Condition  string `json:"UsersapiLocalCondition"` // conditionKey
		}
		if json.Unmarshal(b, &r) != nil || r.Type == "" {
			continue
		}
		if on, ok := raw.Conditions[r.Condition]; r.Condition != "" && (!ok || !on) {
			continue // as CloudFormation does, a resource whose condition is false is not created
		}
		s.props[id], s.types[id] = r.Properties, r.Type
	}
	return nil
}

func (s *Stack) ref(_ string, input, template any) any {
	name, ok := input.(string)
	if !ok {
		return nil
	}
	switch name {
	case "AWS::Region":
		return Region
	case "AWS::AccountId":
		return Account
	case "AWS::StackName":
		return StackName
	case "AWS::Partition":
		return "aws"
	case "AWS::URLSuffix":
		return "amazonaws.com"
	case "AWS::NoValue":
		return nil
	}
	if r, ok := s.Resources[name]; ok {
		return r.Ref
	}
	if v, ok := s.params[name]; ok {
		return v
	}
	if v, ok := s.defaults[name]; ok {
		return v
	}
	return intrinsics.Ref("Ref", name, template)
}

func (s *Stack) getAtt(_ string, input, _ any) any {
	var parts []string
	switch v := input.(type) {
	case string:
		parts = strings.SplitN(v, ".", 2)
	case []any:
		for _, p := range v {
			if ps, ok := p.(string); ok {
				parts = append(parts, ps)
			}
		}
	}
	if len(parts) != 2 {
		return nil
	}
	if r, ok := s.Resources[parts[0]]; ok {
		if v, ok := r.Attr[parts[1]]; ok {
			return v
		}
	}
	return nil
}

var subVar = regexp.MustCompile(`\$\{([^}!][^}]*)\}`)

func (s *Stack) sub(_ string, input, template any) any {
	src, vars := "", map[string]any{}
	switch v := input.(type) {
	case string:
		src = v
	case []any:
		if len(v) == 2 {
			src, _ = v[0].(string)
			vars, _ = v[1].(map[string]any)
		}
	}
	out := subVar.ReplaceAllStringFunc(src, func(m string) string {
		name := m[2 : len(m)-1]
		var val any
		if v, ok := vars[name]; ok {
			val = v
		} else if strings.Contains(name, ".") {
			val = s.getAtt("", name, template)
		} else {
			val = s.ref("", name, template)
		}
		if str, ok := val.(string); ok {
			return str
		}
		return fmt.Sprint(val)
	})
	return strings.ReplaceAll(out, "${!", "${")
}

func explicitName(props map[string]any, typ string) string {
	prop := map[string]string{
		"AWS::DynamoDB::Table":  "TableName",
		"AWS::SQS::Queue":       "QueueName",
		"AWS::Events::EventBus": "Name",
	}[typ]
	name, _ := props[prop].(string)
	return name
}

// arnParts returns the ARN service and resource prefix of a resource type.
func arnParts(typ string) (service, kind string) {
	parts := strings.Split(typ, "::")
	if len(parts) != 3 {
		return "unknown", ""
	}
	return strings.ToLower(parts[1]), strings.ToLower(parts[2]) + "/"
}

// properties returns the Properties of resource id as plain JSON values.
func (s *Stack) properties(id string) map[string]any {
	var m map[string]any
	_ = json.Unmarshal(s.props[id], &m)
	return m
}

// Decode decodes the Properties of resource id into v.
func (s *Stack) Decode(id string, v any) error {
	if err := json.Unmarshal(s.props[id], v); err != nil {
		return fmt.Errorf("resource %s: %w", id, err)
	}
	return nil
}

// IDs returns the logical ids of the resources of type typ, sorted.
func (s *Stack) IDs(typ string) []string {
	var ids []string
	for id, t := range s.types {
		if t == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// ByAttr returns the resource whose attribute attr (as Fn::GetAtt returns
// it: "Arn", "QueueUrl"...) is value, and its logical id; nil when none is.
func (s *Stack) ByAttr(attr, value string) (string, *Resource) {
	for id, r := range s.Resources {
		if r.Attr[attr] == value {
			return id, r
		}
	}
	return "", nil
}

// ResolveDocument resolves the intrinsic functions in a document that the
// template includes (api/openapi.yaml through AWS::Include) against this
// stack, as CloudFormation does when it includes it.
func (s *Stack) ResolveDocument(data []byte) ([]byte, error) {
	out, err := intrinsics.ProcessYAML(data, &intrinsics.ProcessorOptions{
		IntrinsicHandlerOverrides: map[string]intrinsics.IntrinsicHandler{
			"Ref":        s.ref,
			"Fn::GetAtt": s.getAtt,
			"Fn::Sub":    s.sub,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("resolve the API document: %w", err)
	}
	return out, nil
}

// conditionKey is what keepConditions renames a resource's Condition to.
const conditionKey = "UsersapiLocalCondition"

// keepConditions renames each resource's Condition key so that goformation
// keeps the resource: it takes the key for the Condition intrinsic and puts
// the condition's value in the resource's place. Resolve then decides, from
// the evaluated Conditions section, whether the resource exists.
func keepConditions(data []byte) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if len(doc.Content) == 0 {
		return data, nil
	}
	top := doc.Content[0]
	k := mapKey(top, "Resources")
	if k == nil {
		return data, nil
	}
	resources := top.Content[slices.Index(top.Content, k)+1]
	for i := 1; i < len(resources.Content); i += 2 {
		if k := mapKey(resources.Content[i], "Condition"); k != nil {
			k.Value = conditionKey
		}
	}
	return yaml.Marshal(&doc)
}

// mapKey returns the key node named key of mapping n, or nil.
func mapKey(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i]
		}
	}
	return nil
}
