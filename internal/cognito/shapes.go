package cognito

import (
	"strconv"
	"time"
)

// The wire shapes of the API. Names and JSON members mirror AWS verbatim
// (IdentityPoolId, not IdentityPoolID) so that code, SDKs and the API
// reference grep alike. Optional output members are omitted when unset.
// A test checks every input member of the model against these types.

// Timestamp is written as the protocol writes times: a JSON number of
// seconds since the epoch, with a fraction only when there is one.
type Timestamp time.Time

// MarshalJSON writes the time as epoch seconds, millisecond precision.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	ms := time.Time(t).UnixMilli()
	if ms%1000 == 0 {
		return strconv.AppendInt(nil, ms/1000, 10), nil
	}
	return strconv.AppendFloat(nil, float64(ms)/1000, 'f', -1, 64), nil
}

// Empty is the output of operations that return no members: "{}".
type Empty struct{}

type CognitoIdentityProvider struct {
	ProviderName         string `json:"ProviderName,omitempty"`
	ClientId             string `json:"ClientId,omitempty"`
	ServerSideTokenCheck *bool  `json:"ServerSideTokenCheck,omitempty"`
}

// PoolSettings are the members a pool is configured with: the input of
// CreateIdentityPool, and, with the pool's id, the input of
// UpdateIdentityPool and the output of the pool operations.
type PoolSettings struct {
	IdentityPoolName               string                    `json:"IdentityPoolName"`
	AllowUnauthenticatedIdentities bool                      `json:"AllowUnauthenticatedIdentities"`
	AllowClassicFlow               *bool                     `json:"AllowClassicFlow,omitempty"`
	SupportedLoginProviders        map[string]string         `json:"SupportedLoginProviders,omitempty"`
	DeveloperProviderName          string                    `json:"DeveloperProviderName,omitempty"`
	OpenIdConnectProviderARNs      []string                  `json:"OpenIdConnectProviderARNs,omitempty"`
	CognitoIdentityProviders       []CognitoIdentityProvider `json:"CognitoIdentityProviders,omitempty"`
	SamlProviderARNs               []string                  `json:"SamlProviderARNs,omitempty"`
	// IdentityPoolTags is always sent, as {} when the pool has no tags;
	// in UpdateIdentityPool's input, nil means "leave the tags alone".
	IdentityPoolTags map[string]string `json:"IdentityPoolTags"`
}

type CreateIdentityPoolInput struct {
	PoolSettings
}

// IdentityPool is the output of the pool operations and the input of
// UpdateIdentityPool.
type IdentityPool struct {
	IdentityPoolId string `json:"IdentityPoolId"`
	PoolSettings
}

type DeleteIdentitiesInput struct {
	IdentityIdsToDelete []string `json:"IdentityIdsToDelete"`
}

type UnprocessedIdentityId struct {
	IdentityId string `json:"IdentityId,omitempty"`
	ErrorCode  string `json:"ErrorCode,omitempty"`
}

type DeleteIdentitiesResponse struct {
	// Always present, [] on full success.
	UnprocessedIdentityIds []UnprocessedIdentityId `json:"UnprocessedIdentityIds"`
}

type DeleteIdentityPoolInput struct {
	IdentityPoolId string `json:"IdentityPoolId"`
}

type DescribeIdentityInput struct {
	IdentityId string `json:"IdentityId"`
}

type IdentityDescription struct {
	IdentityId       string     `json:"IdentityId,omitempty"`
	Logins           []string   `json:"Logins,omitempty"`
	CreationDate     *Timestamp `json:"CreationDate,omitempty"`
	LastModifiedDate *Timestamp `json:"LastModifiedDate,omitempty"`
}

type DescribeIdentityPoolInput struct {
	IdentityPoolId string `json:"IdentityPoolId"`
}

type GetCredentialsForIdentityInput struct {
	IdentityId    string            `json:"IdentityId"`
	Logins        map[string]string `json:"Logins"`
	CustomRoleArn string            `json:"CustomRoleArn"`
}

type Credentials struct {
	AccessKeyId  string     `json:"AccessKeyId,omitempty"`
	SecretKey    string     `json:"SecretKey,omitempty"`
	SessionToken string     `json:"SessionToken,omitempty"`
	Expiration   *Timestamp `json:"Expiration,omitempty"`
}

type GetCredentialsForIdentityResponse struct {
	IdentityId  string       `json:"IdentityId,omitempty"`
	Credentials *Credentials `json:"Credentials,omitempty"`
}

type GetIdInput struct {
	AccountId      string            `json:"AccountId"`
	IdentityPoolId string            `json:"IdentityPoolId"`
	Logins         map[string]string `json:"Logins"`
}

type GetIdResponse struct {
	IdentityId string `json:"IdentityId,omitempty"`
}

type GetIdentityPoolRolesInput struct {
	IdentityPoolId string `json:"IdentityPoolId"`
}

type MappingRule struct {
	Claim     string `json:"Claim"`
	MatchType string `json:"MatchType"`
	Value     string `json:"Value"`
	RoleARN   string `json:"RoleARN"`
}

type RulesConfigurationType struct {
	Rules []MappingRule `json:"Rules"`
}

type RoleMapping struct {
	Type                    string                  `json:"Type"`
	AmbiguousRoleResolution string                  `json:"AmbiguousRoleResolution,omitempty"`
	RulesConfiguration      *RulesConfigurationType `json:"RulesConfiguration,omitempty"`
}

type GetIdentityPoolRolesResponse struct {
	IdentityPoolId string                 `json:"IdentityPoolId,omitempty"`
	Roles          map[string]string      `json:"Roles"`
	RoleMappings   map[string]RoleMapping `json:"RoleMappings,omitempty"`
}

type GetOpenIdTokenInput struct {
	IdentityId string            `json:"IdentityId"`
	Logins     map[string]string `json:"Logins"`
}

type GetOpenIdTokenResponse struct {
	IdentityId string `json:"IdentityId,omitempty"`
	Token      string `json:"Token,omitempty"`
}

type GetOpenIdTokenForDeveloperIdentityInput struct {
	IdentityPoolId string            `json:"IdentityPoolId"`
	IdentityId     string            `json:"IdentityId"`
	Logins         map[string]string `json:"Logins"`
	PrincipalTags  map[string]string `json:"PrincipalTags"`
	TokenDuration  *int64            `json:"TokenDuration"`
}

type GetOpenIdTokenForDeveloperIdentityResponse struct {
	IdentityId string `json:"IdentityId,omitempty"`
	Token      string `json:"Token,omitempty"`
}

type GetPrincipalTagAttributeMapInput struct {
	IdentityPoolId       string `json:"IdentityPoolId"`
	IdentityProviderName string `json:"IdentityProviderName"`
}

type GetPrincipalTagAttributeMapResponse struct {
	IdentityPoolId       string            `json:"IdentityPoolId,omitempty"`
	IdentityProviderName string            `json:"IdentityProviderName,omitempty"`
	UseDefaults          *bool             `json:"UseDefaults,omitempty"`
	PrincipalTags        map[string]string `json:"PrincipalTags,omitempty"`
}

type ListIdentitiesInput struct {
	IdentityPoolId string `json:"IdentityPoolId"`
	MaxResults     int32  `json:"MaxResults"`
	NextToken      string `json:"NextToken"`
	HideDisabled   bool   `json:"HideDisabled"`
}

type ListIdentitiesResponse struct {
	IdentityPoolId string                `json:"IdentityPoolId,omitempty"`
	Identities     []IdentityDescription `json:"Identities"`
	NextToken      string                `json:"NextToken,omitempty"`
}

type ListIdentityPoolsInput struct {
	MaxResults int32  `json:"MaxResults"`
	NextToken  string `json:"NextToken"`
}

type IdentityPoolShortDescription struct {
	IdentityPoolId   string `json:"IdentityPoolId,omitempty"`
	IdentityPoolName string `json:"IdentityPoolName,omitempty"`
}

type ListIdentityPoolsResponse struct {
	IdentityPools []IdentityPoolShortDescription `json:"IdentityPools"`
	NextToken     string                         `json:"NextToken,omitempty"`
}

type ListTagsForResourceInput struct {
	ResourceArn string `json:"ResourceArn"`
}

type ListTagsForResourceResponse struct {
	Tags map[string]string `json:"Tags"`
}

type LookupDeveloperIdentityInput struct {
	IdentityPoolId          string `json:"IdentityPoolId"`
	IdentityId              string `json:"IdentityId"`
	DeveloperUserIdentifier string `json:"DeveloperUserIdentifier"`
	MaxResults              *int32 `json:"MaxResults"`
	NextToken               string `json:"NextToken"`
}

type LookupDeveloperIdentityResponse struct {
	IdentityId                  string   `json:"IdentityId,omitempty"`
	DeveloperUserIdentifierList []string `json:"DeveloperUserIdentifierList,omitempty"`
	NextToken                   string   `json:"NextToken,omitempty"`
}

type MergeDeveloperIdentitiesInput struct {
	SourceUserIdentifier      string `json:"SourceUserIdentifier"`
	DestinationUserIdentifier string `json:"DestinationUserIdentifier"`
	DeveloperProviderName     string `json:"DeveloperProviderName"`
	IdentityPoolId            string `json:"IdentityPoolId"`
}

type MergeDeveloperIdentitiesResponse struct {
	IdentityId string `json:"IdentityId,omitempty"`
}

type SetIdentityPoolRolesInput struct {
	IdentityPoolId string                 `json:"IdentityPoolId"`
	Roles          map[string]string      `json:"Roles"`
	RoleMappings   map[string]RoleMapping `json:"RoleMappings"`
}

type SetPrincipalTagAttributeMapInput struct {
	IdentityPoolId       string            `json:"IdentityPoolId"`
	IdentityProviderName string            `json:"IdentityProviderName"`
	UseDefaults          *bool             `json:"UseDefaults"`
	PrincipalTags        map[string]string `json:"PrincipalTags"`
}

type SetPrincipalTagAttributeMapResponse = GetPrincipalTagAttributeMapResponse

type TagResourceInput struct {
	ResourceArn string            `json:"ResourceArn"`
	Tags        map[string]string `json:"Tags"`
}

type UnlinkDeveloperIdentityInput struct {
	IdentityId              string `json:"IdentityId"`
	IdentityPoolId          string `json:"IdentityPoolId"`
	DeveloperProviderName   string `json:"DeveloperProviderName"`
	DeveloperUserIdentifier string `json:"DeveloperUserIdentifier"`
}

type UnlinkIdentityInput struct {
	IdentityId     string            `json:"IdentityId"`
	Logins         map[string]string `json:"Logins"`
	LoginsToRemove []string          `json:"LoginsToRemove"`
}

type UntagResourceInput struct {
	ResourceArn string   `json:"ResourceArn"`
	TagKeys     []string `json:"TagKeys"`
}
