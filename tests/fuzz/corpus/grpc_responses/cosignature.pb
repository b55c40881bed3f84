
�example.org/log
12
AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=

— example.org/log XizvAEB+BUe7JSYlwRfMYn69tho8ij7TC7rBXoa3XZQ/pEj0h1jFyimm35qRXqH+23ijKTIjuLv+gigo2rYnkGJa6AE=
— witness.example 5lV4IQAAAABqHMuA53KYiS+lSN+3ELxpzspKuq1riTTVlcAHJ1sccHd7dXf1sNEplEM44cIyYLWYdEVKNYXL5Cgm61q2xLbFe1Y+Dg==
