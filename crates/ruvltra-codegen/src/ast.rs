//! Constructors of the few `syn` nodes a model's constant is made of. Names passed in are
//! fixed field and type names or identifiers already checked by `is_identifier`.

use proc_macro2::{Literal, Span};
use syn::punctuated::Punctuated;
use syn::{
    AttrStyle, Attribute, Expr, ExprArray, ExprCall, ExprLit, ExprPath, ExprReference, ExprStruct,
    ExprUnary, FieldValue, Ident, Item, ItemConst, Lit, LitStr, Member, Meta, MetaNameValue, Path,
    PathSegment, Type, TypePath, UnOp, Visibility,
};

fn ident(name: &str) -> Ident {
    Ident::new(name, Span::call_site())
}

fn syn_path(segments: &[&str]) -> Path {
    Path {
        leading_colon: None,
        segments: segments
            .iter()
            .map(|segment| PathSegment::from(ident(segment)))
            .collect(),
    }
}

/// `A::B` as an expression.
pub(crate) fn path(segments: &[&str]) -> Expr {
    Expr::Path(ExprPath {
        attrs: Vec::new(),
        qself: None,
        path: syn_path(segments),
    })
}

fn literal(lit: Lit) -> Expr {
    Expr::Lit(ExprLit {
        attrs: Vec::new(),
        lit,
    })
}

/// A string literal.
pub(crate) fn string(text: &str) -> Expr {
    literal(Lit::Str(LitStr::new(text, Span::call_site())))
}

/// An unsuffixed integer literal.
pub(crate) fn number(value: u64) -> Expr {
    literal(Lit::new(Literal::u64_unsuffixed(value)))
}

/// `*b"..."` for a byte-string literal.
pub(crate) fn deref_literal(bytes: Literal) -> Expr {
    Expr::Unary(ExprUnary {
        attrs: Vec::new(),
        op: UnOp::Deref(Default::default()),
        expr: Box::new(literal(Lit::new(bytes))),
    })
}

/// `Some(value)`.
pub(crate) fn some(value: Expr) -> Expr {
    Expr::Call(ExprCall {
        attrs: Vec::new(),
        func: Box::new(path(&["Some"])),
        paren_token: Default::default(),
        args: std::iter::once(value).collect(),
    })
}

/// `Some(value)` or `None`.
pub(crate) fn option(value: Option<Expr>) -> Expr {
    value.map_or_else(|| path(&["None"]), some)
}

/// `&[a, b, ...]`.
pub(crate) fn slice(elems: impl IntoIterator<Item = Expr>) -> Expr {
    Expr::Reference(ExprReference {
        attrs: Vec::new(),
        and_token: Default::default(),
        mutability: None,
        expr: Box::new(Expr::Array(ExprArray {
            attrs: Vec::new(),
            bracket_token: Default::default(),
            elems: elems.into_iter().collect(),
        })),
    })
}

/// `Type { field: value, ..rest }`.
pub(crate) fn structure(ty: &str, fields: Vec<(&str, Expr)>, rest: Option<Expr>) -> Expr {
    let mut fields: Punctuated<FieldValue, syn::Token![,]> = fields
        .into_iter()
        .map(|(name, expr)| FieldValue {
            attrs: Vec::new(),
            member: Member::Named(ident(name)),
            colon_token: Some(Default::default()),
            expr,
        })
        .collect();
    // Before `..rest` the last field needs its comma, or the tokens read `x: 1..rest`.
    if rest.is_some() && !fields.empty_or_trailing() {
        fields.push_punct(Default::default());
    }
    Expr::Struct(ExprStruct {
        attrs: Vec::new(),
        qself: None,
        path: syn_path(&[ty]),
        brace_token: Default::default(),
        fields,
        dot2_token: rest.as_ref().map(|_| Default::default()),
        rest: rest.map(Box::new),
    })
}

/// `#[doc = "..."] pub const NAME: Type = value;`
pub(crate) fn documented_const(doc: &str, name: &str, ty: &str, value: Expr) -> Item {
    let doc = Attribute {
        pound_token: Default::default(),
        style: AttrStyle::Outer,
        bracket_token: Default::default(),
        meta: Meta::NameValue(MetaNameValue {
            path: syn_path(&["doc"]),
            eq_token: Default::default(),
            value: string(doc),
        }),
    };
    Item::Const(ItemConst {
        attrs: vec![doc],
        vis: Visibility::Public(Default::default()),
        const_token: Default::default(),
        ident: ident(name),
        generics: Default::default(),
        colon_token: Default::default(),
        ty: Box::new(Type::Path(TypePath {
            qself: None,
            path: syn_path(&[ty]),
        })),
        eq_token: Default::default(),
        expr: Box::new(value),
        semi_token: Default::default(),
    })
}
